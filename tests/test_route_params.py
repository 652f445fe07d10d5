"""`route_params` reads handler parameters the way the installed FastAPI does.

Each handler below is both built by FastAPI (which decides where every parameter comes
from) and read statically; the two must agree wherever the static reading is sure, and the
static reading must stay unsure (opaque, or an unknown type) rather than guess wrong.
"""

from __future__ import annotations

import re
import warnings

import libcst as cst
import pytest
from fastapi import FastAPI
from starlette.routing import compile_path

from fastapi_lint.route_params import (
    BODY,
    BODY_TYPE,
    DEPENDENCY,
    INJECTED,
    SCALAR,
    SCALAR_SEQUENCE,
    UNKNOWN_TYPE,
    UPLOAD,
    parameters,
    path_parameters,
)
from fastapi_lint.semantic import FileModel, ProjectModules

SOURCE = """
import dataclasses
import enum
from collections.abc import Sequence
from typing import Annotated, Dict, List, Literal, Optional, Set, Tuple, Union
from uuid import UUID

from fastapi import Body, Cookie, Depends, FastAPI, File, Form, Header, Query, Request
from fastapi import Response, UploadFile
from pydantic import BaseModel


class Color(str, enum.Enum):
    RED = "red"


class Model(BaseModel):
    name: str = ""


class Child(Model):
    pass


@dataclasses.dataclass
class Data:
    size: int = 1


def dependency(q: int = 0) -> int:
    return q


Tags = list[str]
TagsQuery = Annotated[list[str], Query()]
ModelDep = Annotated[Model, Depends()]


def handler(
    path_id: int,
    plain: str,
    number: int = 0,
    untyped=None,
    uid: Optional[UUID] = None,
    color: Color = Color.RED,
    literal: Literal["a", "b"] = "a",
    tags: list[str] = [],
    ids: List[int] = [],
    colors: Set[Color] = set(),
    pair: Tuple[int, ...] = (),
    maybe_tags: Optional[list[str]] = None,
    union_tags: Union[list[int], None] = None,
    new_union_tags: list[str] | None = None,
    sequence: Sequence[str] = (),
    alias_tags: Tags = [],
    model: Model = Model(),
    child: Optional[Child] = None,
    data: Data | None = None,
    mapping: Dict[str, int] = {},
    models: list[Model] = [],
    query_tags: Annotated[list[str], Query()] = [],
    old_query_tags: list[str] = Query([]),
    alias_query_tags: TagsQuery = [],
    header_tags: list[str] = Header([]),
    cookie: Annotated[str, Cookie()] = "",
    query_model: Annotated[Model, Query()] = None,
    body_text: str = Body(""),
    dep: int = Depends(dependency),
    model_dep: ModelDep = None,
    request: Request = None,
    response: Response = None,
):
    pass


# Read from a multipart body: FastAPI needs python-multipart to build these.
def upload_handler(
    upload: UploadFile | None = None,
    uploads: list[UploadFile] = [],
    form_text: Annotated[str, Form()] = "",
    file_bytes: bytes = File(b""),
):
    pass
"""


def _fastapi_sources() -> dict[str, str]:
    """Where FastAPI 0.165 reads each parameter of `handler`, on a GET of `/{path_id}`."""
    namespace: dict = {}
    exec(compile(SOURCE, "<route_params>", "exec"), namespace)
    app = FastAPI()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app.get("/{path_id}")(namespace["handler"])
    dependant = app.routes[-1].dependant  # type: ignore[attr-defined]
    sources = {field.name: "path" for field in dependant.path_params}
    sources.update({field.name: "query" for field in dependant.query_params})
    sources.update({field.name: "header" for field in dependant.header_params})
    sources.update({field.name: "cookie" for field in dependant.cookie_params})
    sources.update({field.name: "body" for field in dependant.body_params})
    sources.update({sub.name: "dependency" for sub in dependant.dependencies})
    for name in ("request_param_name", "response_param_name"):
        sources[getattr(dependant, name)] = "injected"
    return sources


def _static_sources(name: str = "handler") -> dict[str, str]:
    """The same, read statically ("unknown" where the reading is not sure)."""
    model = FileModel(cst.parse_module(SOURCE), ProjectModules())
    handler = next(f for f in model.functions if f.name.value == name)
    found = {}
    for param in parameters(model, handler):
        assert not param.opaque, param.name
        if param.name == "path_id":
            found[param.name] = "path"
        elif param.marker is not None:
            kind = param.marker.kind
            found[param.name] = (
                "dependency" if kind in DEPENDENCY else "body" if kind in BODY else kind.lower()
            )
        else:
            found[param.name] = _implicit_source(param.type_kind())
    return found


def _implicit_source(kind: str) -> str:
    return {
        SCALAR: "query",
        SCALAR_SEQUENCE: "body",
        BODY_TYPE: "body",
        UPLOAD: "body",
        INJECTED: "injected",
        UNKNOWN_TYPE: "unknown",
    }[kind]


def test_parameters_are_read_where_fastapi_reads_them():
    fastapi = _fastapi_sources()
    static = _static_sources()
    assert static.keys() == fastapi.keys()
    assert {name: static[name] for name in fastapi} == fastapi


def test_uploads_forms_and_files_are_read_from_the_body():
    assert _static_sources("upload_handler") == dict.fromkeys(
        ("upload", "uploads", "form_text", "file_bytes"), "body"
    )


def test_only_lists_of_scalars_are_scalar_sequences():
    model = FileModel(cst.parse_module(SOURCE), ProjectModules())
    handler = next(f for f in model.functions if f.name.value == "handler")
    sequences = {p.name for p in parameters(model, handler) if p.type_kind() == SCALAR_SEQUENCE}
    assert sequences == {
        "tags", "ids", "colors", "pair", "maybe_tags", "union_tags", "new_union_tags",
        "sequence", "alias_tags", "query_tags", "old_query_tags", "alias_query_tags",
        "header_tags",
    }  # fmt: skip


@pytest.mark.parametrize(
    "path",
    [
        "/items/{item_id}",
        "/items/{item_id:int}/{rest:path}",
        "/{ spaced }/{x}",
        "/{用户}/{ok}",
        "/{a-b}/{_c9}",
        "/{x:}/{y:int }",
        "/{{double}}",
        "/plain",
    ],
)
def test_path_parameters_are_starlettes(path):
    expected = sorted(compile_path(path)[2])
    assert sorted(set(path_parameters(path))) == expected


def test_an_alias_of_an_unreadable_module_is_opaque():
    source = re.sub(
        r"^Tags = list\[str\]$", "from elsewhere import Tags", SOURCE, flags=re.MULTILINE
    )
    model = FileModel(cst.parse_module(source), ProjectModules())
    handler = next(f for f in model.functions if f.name.value == "handler")
    opaque = {p.name for p in parameters(model, handler) if p.opaque}
    assert opaque == {"alias_tags"}
