"""Fuzzing: random programs and random FastAPI projects never crash the linter, give the same
output however they are linted, and every fix leaves code that compiles and is final.

Two generators, every rule enabled (`--select ALL --preview`):

- hypothesmith's valid Python programs (from the grammar and from LibCST's nodes), linted as
  a module that imports fastapi (so that the prefilter lets every rule see it) and as the
  body of a route;
- `projects()`: a FastAPI package of 4 to 7 modules composed from random parts: an app with
  middleware (CORS, TrustedHost, a `@app.middleware`) and exception handlers, routers chained
  by `include_router` across modules (cycles included), routes with stacked decorators,
  status codes, response models, parameters and dependencies, bodies with blocking calls,
  `HTTPException`s, SQL, JWTs and Pydantic v1 methods, models with v1 idioms, a settings
  class, `# noqa` comments, and a `pyproject.toml` that declares Pydantic 1, 2 or nothing.

The properties: no internal error (and, through the real CLI, exit code 0 or 1 and no
traceback); the same output twice, serially or in a pool of workers, cold or from the cache,
in fresh interpreters (other hash seeds); a fix run leaves every file compiling and a second
one changes nothing. Most run the in-process API (`lint_paths`): a CLI subprocess costs half a
second of start-up. One runs the real CLI.

Example counts come from a Hypothesis profile: `ci` (the default: derandomized, a few dozen
examples per property, about a minute in all) or `long`, for a manual run that explores
(random seeds; 100 to 1,500 examples per property, hours on 2 cores); `FUZZ_EXAMPLES=N` sets
the count of every property in either:

    HYPOTHESIS_PROFILE=long nice pytest -p no:cacheprovider tests/test_fuzz.py \
        --hypothesis-show-statistics
    HYPOTHESIS_PROFILE=long FUZZ_EXAMPLES=200 nice pytest -p no:cacheprovider \
        tests/test_fuzz.py -k project_fixes

A failure prints the smallest example found and a `@reproduce_failure` blob.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from string import Template

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fastapi_lint import runner
from fastapi_lint.api import FixMode, RunResult, lint_paths, route_table
from fastapi_lint.config import Selection, Settings, load_settings
from fastapi_lint.report import render_json

from .conftest import TOOL_ENVIRONMENT

_COMMON = {
    "deadline": None,
    "database": None,  # nothing written into the repo; failures print a blob instead
    "print_blob": True,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
}
settings.register_profile("ci", derandomize=True, **_COMMON)
settings.register_profile("long", **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")


def fuzz(ci: int, long: int) -> settings:
    """A property's settings: `ci` examples in the CI profile, `long` in the long one, or
    `FUZZ_EXAMPLES` in either."""
    if PROFILE not in ("ci", "long"):
        raise ValueError(f"HYPOTHESIS_PROFILE must be `ci` or `long`, not {PROFILE!r}")
    examples = os.environ.get("FUZZ_EXAMPLES") or (ci if PROFILE == "ci" else long)
    return settings(settings.get_profile(PROFILE), max_examples=int(examples))


# hypothesmith compiles what it generates: `1()` and the like warn.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")


# --- running the linter in-process ---------------------------------------------------------


def every_rule(root: Path) -> Settings:
    """`--select ALL --preview`, with the configuration found from `root`."""
    return load_settings(None, Selection(select=("ALL",)), cwd=root, preview=True, paths=[root])


def check(root: Path, *, jobs: int = 1, cache_dir: Path | None = None) -> RunResult:
    run = lint_paths([root], every_rule(root), with_edits=True, jobs=jobs, cache_dir=cache_dir)
    assert run.internal_errors == [], run.internal_errors
    assert run.warnings == [], run.warnings
    return run


def fix(root: Path) -> RunResult:
    run = lint_paths([root], every_rule(root), fix=FixMode(unsafe=True), jobs=1)
    assert run.internal_errors == [], run.internal_errors
    assert run.warnings == [], run.warnings
    return run


def report(run: RunResult) -> str:
    """What a user sees: the JSON report (positions, messages, fixes and their edits)."""
    return render_json(run.diagnostics)


def compiles(data: bytes, name: str = "<fuzz>") -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like
            compile(data, name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".fastapi_lint_cache" not in path.parts
    }


def assert_fixes_compile_and_are_final(root: Path) -> None:
    """Fix everything; each file that compiled still compiles, no file appears or goes,
    and a second fix run changes nothing."""
    before = snapshot(root)
    fix(root)
    after = snapshot(root)
    assert after.keys() == before.keys()
    for name, data in after.items():
        if data != before[name] and compiles(before[name]):
            assert compiles(data, name), f"the fix broke {name}:\n{data.decode(errors='replace')}"
    second = fix(root)
    assert second.fixed_count == 0, second.fixed
    assert snapshot(root) == after


@contextmanager
def scratch() -> Iterator[Path]:
    """A fresh directory per example (pytest's tmp_path is one per test, not per example)."""
    with tempfile.TemporaryDirectory(prefix="fastapi-lint-fuzz-") as directory:
        yield Path(directory)


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


# --- hypothesmith: valid Python programs ---------------------------------------------------

FASTAPI_HEADER = (
    "from fastapi import APIRouter, Depends, FastAPI, HTTPException\n"
    "app = FastAPI()\n"
    "router = APIRouter()\n"
)
ROUTE = '@app.get("/fuzz")\nasync def endpoint(request):\n    pass\n'
programs = st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node())


def as_module(program: str) -> str:
    """The program after an import of fastapi: the prefilter lets every rule see it."""
    return FASTAPI_HEADER + program


def as_route_body(program: str) -> str | None:
    """The program's statements as the body of an async route (None: LibCST rejects it)."""
    try:
        body = cst.parse_module(program).body
    except cst.ParserSyntaxError:
        return None
    module = cst.parse_module(FASTAPI_HEADER + ROUTE)
    route = module.body[-1]
    assert isinstance(route, cst.FunctionDef)
    block = cst.IndentedBlock(body=body or [cst.SimpleStatementLine([cst.Pass()])])
    return module.with_changes(body=[*module.body[:-1], route.with_changes(body=block)]).code


@fuzz(ci=15, long=1500)
@given(program=programs, placement=st.sampled_from([as_module, as_route_body]))
def test_valid_programs_never_crash_and_fix_cleanly(program: str, placement) -> None:
    source = placement(program)
    assume(source is not None)
    with scratch() as root:
        write(root, {"pyproject.toml": "", "module.py": source})
        first = report(check(root))
        assert report(check(root)) == first
        assert_fixes_compile_and_are_final(root)


# --- a FastAPI-flavoured strategy ----------------------------------------------------------

# Names of fastapi's top-level namespace that the parts use, written `$Name` in the templates:
# each module imports them in one of three styles (from-import, `import fastapi`, an alias).
FASTAPI_NAMES = (
    "APIRouter",
    "BackgroundTasks",
    "Body",
    "Depends",
    "FastAPI",
    "Header",
    "HTTPException",
    "Path",
    "Query",
    "Request",
    "Response",
    "WebSocket",
    "status",
)
OTHER_IMPORTS = """\
import asyncio
import subprocess
import time
from http import HTTPStatus
from typing import Annotated

import bcrypt
import httpx
import jwt
import requests
import uvicorn
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import OAuth2PasswordBearer
from passlib.context import CryptContext
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
"""

METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
PATHS = (
    "/",
    "",
    "/items",
    "/items/",
    "/items/{item_id}",
    "/{name}",
    "/users/{user_id}/items/{item_id}",
    "/files/{file_path:path}",
    "/me",
)
STATUS_CODES = (
    "200",
    "201",
    "202",
    "204",
    "301",
    "304",
    "400",
    "404",
    "$status.HTTP_201_CREATED",
    "$status.HTTP_204_NO_CONTENT",
    "HTTPStatus.CREATED",
    "None",
)
RESPONSE_MODELS = ("Item", "list[Item]", "Item | None", "UserOut", "None", "dict[str, int]")
DECORATOR_OPTIONS = (
    'summary="Read items"',
    'description="What it does."',
    "deprecated=True",
    "include_in_schema=False",
    'operation_id="read_items"',
    'tags=["items"]',
    "dependencies=[$Depends(verify_token)]",
    "response_class=HTMLResponse",
    "responses={404: {'model': Item}}",
    "**EXTRA",
)
# (parameter, has a default): parameters without one go first.
PARAMETERS = (
    ("item_id: int", False),
    ("name: str", False),
    ("item: Item", False),
    ("request: $Request", False),
    ("background_tasks: $BackgroundTasks", False),
    ("user: Annotated[User, $Depends(get_current_user)]", False),
    ("q: str | None = None", True),
    ("tags: list[str] = $Query([])", True),
    ("ids: list[int] = []", True),
    ("skip: int = 0", True),
    ("db: Session = $Depends(get_db)", True),
    ("session: AsyncSession = $Depends(get_session)", True),
    ("token: str = $Depends(oauth2_scheme)", True),
    ("x_token: str = $Header(..., regex='^Bearer')", True),
    ("limit: int = $Query(10, ge=1, regex='[0-9]+')", True),
    ("user_id: int = $Path(...)", True),
    ("password: str = $Body(..., embed=True)", True),
    ("*args", True),
    ("page: Annotated[int, $Query(ge=1), $Depends(verify_token)] = 1", True),
    ("commons: dict = $Depends()", True),
)
# Statements for any function body; ASYNC_STATEMENTS only in an `async def`.
STATEMENTS = (
    ["time.sleep(1)"],
    ["requests.get('https://example.com')"],
    ["data = open('data.txt').read()"],
    ["subprocess.run(['ls'])"],
    ["helper()"],
    ["notify_user(1)"],
    ["raise $HTTPException(status_code=404, detail='Not found')"],
    ["raise $HTTPException(status_code=200)"],
    ["raise $HTTPException($status.HTTP_401_UNAUTHORIZED)"],
    ["return $HTTPException(status_code=400, detail='bad')"],
    ['result = db.execute(f"SELECT * FROM items WHERE id = {item_id}")'],
    ["cursor.execute('SELECT * FROM t WHERE name = %s' % name)"],
    ["payload = jwt.decode(token, options={'verify_signature': False})"],
    ["hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt())"],
    ["hashed = pwd_context.hash(password)"],
    ["users = db.query(User).all()"],
    ["return item.dict()"],
    ["return Item.parse_obj({'name': 'x'})"],
    ["return {'id': 1}"],
    ["return None"],
    ["return $Response(status_code=204)"],
    ["return JSONResponse({'ok': True}, status_code=201)"],
    ["background_tasks.add_task(time.sleep, 1)"],
    ["items.append(Item(name='x'))"],
    ["pass"],
    [
        "try:",
        "    value = compute()",
        "except Exception as exc:",
        "    raise $HTTPException(status_code=500, detail=str(exc))",
    ],
    [
        "try:",
        "    pass",
        "except ValueError as error:",
        "    return JSONResponse({'error': repr(error)}, status_code=500)",
    ],
    ["with open('file.txt') as handle:", "    handle.read()"],
    ["for _ in range(3):", "    time.sleep(0.1)"],
    ["if user is None:", "    raise $HTTPException(status_code=403)"],
    ["def inner():", "    time.sleep(1)", "inner()"],
    ["results = [requests.get(url) for url in urls]"],
    ["callback = lambda: time.sleep(1)"],
    ["return [Item(name=n) for n in names]"],
    ["if (n := len(items)) > 1:", "    time.sleep(n)"],
    [
        "match item_id:",
        "    case 1:",
        "        raise $HTTPException(status_code=404)",
        "    case _:",
        "        pass",
    ],
    ["class Local:", "    def method(self):", "        time.sleep(1)", "Local().method()"],
    ['text = """first line', "# noqa: FAPI201 (in a string)", 'time.sleep(1)"""'],
    ["raise $HTTPException(status_code=int('404'), headers={'X': 'y'})"],
    ["print(f'{item_id!r:>10} {name=}')"],
    ["assert item_id > 0, 'positive'"],
    ["try:", "    pass", "finally:", "    time.sleep(1)"],
    ["with (open('a') as first, open('b') as second):", "    pass"],
    ["del items[0]"],
    ["x = (  # a comment inside brackets", "    time.sleep(1)", ")"],
    ["time.sleep(1); requests.get('https://example.com')"],
    ["if True: time.sleep(1)"],
    ["return $HTTPException(404) if item_id else None"],
    ["raise $HTTPException(status_code=STATUS)"],
)
ASYNC_STATEMENTS = (
    ["await asyncio.sleep(0)"],
    ["await notify_user(1)"],
    ["await session.commit()"],
    ["session.commit()"],
    ["async with httpx.AsyncClient() as client:", "    await client.get('https://example.com')"],
    ["return await fetch_items()"],
    ["async def inner():", "    time.sleep(1)", "await inner()"],
    ["async for row in stream():", "    time.sleep(0)"],
    ["await asyncio.gather(*(notify_user(n) for n in range(3)))"],
    ["task = asyncio.create_task(notify_user(1))"],
)
NOQA = (
    "  # noqa",
    "  # noqa: FAPI201",
    "  # noqa: FAPI105, FAPI201",
    "  # noqa: E501",
    "  #noqa:FAPI201,FAPI003",
    "  # NOQA: fapi201",
    "  # noqa: FAPI",
    "  # type: ignore  # noqa: FAPI201",
)
MIDDLEWARE = (
    [
        "$app.add_middleware(",
        "    CORSMiddleware,",
        '    allow_origins=["*"],',
        "    allow_credentials=True,",
        '    allow_methods=["*"],',
        ")",
    ],
    ['$app.add_middleware(CORSMiddleware, allow_origins=["https://example.com"])'],
    ['$app.add_middleware(CORSMiddleware, allow_origin_regex=".*")'],
    ['$app.add_middleware(TrustedHostMiddleware, allowed_hosts=["*"])'],
    ['$app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com", "*.example.com"])'],
    ["$app.add_middleware(GZipMiddleware, minimum_size=1000)"],
    [
        '@$app.middleware("http")',
        "async def add_header(request, call_next):",
        "    time.sleep(0.01)",
        "    response = await call_next(request)",
        '    response.headers["X-Time"] = "1"',
        "    return response",
    ],
)
MODULE_PRELUDES = (
    [],
    ['PATH = "/constant"', 'PREFIX = "/api"', "VERSION = 2", "STATUS = 404", "counter = 0"],
    ['EXTRA = {"summary": "From a dict"}', 'PATH = PREFIX = "/p"', "VERSION = STATUS = 1"],
    ["from typing import TYPE_CHECKING", "if TYPE_CHECKING:", "    from app.models import Item"],
    ["try:", "    import orjson", "except ImportError:", "    orjson = None"],
    ['__all__ = ["router"]'],
)
SETTINGS_MODULES = (
    """\
from pydantic import BaseSettings


class Settings(BaseSettings):
    secret_key: str = "s3cr3t-signing-key-0123456789"
    database_url: str = "postgresql://admin:hunter2@localhost/app"
    debug: bool = True

    class Config:
        env_file = ".env"


settings = Settings()
SECRET_KEY = "changeme-0123456789abcdef"
""",
    """\
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env")
    secret_key: str
    api_key: str = "sk-live-0123456789abcdef0123"


settings = Settings()
""",
    """\
import os

JWT_SECRET = os.environ.get("JWT_SECRET", "dev-secret")
DEBUG = os.environ.get("DEBUG") == "1"
""",
)
MODEL_FIELDS = (
    'name: str = Field(..., regex="^[a-z]+$")',
    "price: float = Field(0, gt=0)",
    "tags: list[str] = Field(default_factory=list, min_items=1, max_items=5)",
    "code: constr(regex=r'^[A-Z]{3}$') = 'ABC'",
    "description: str | None = None",
    "name: str",
    "id: int = Field(..., const=True)",
)
MODEL_EXTRAS = (
    ["class Config:", "    orm_mode = True"],
    ["class Config:", "    allow_population_by_field_name = True", "    extra = 'forbid'"],
    ['@validator("name", pre=True)', "def clean_name(cls, value):", "    return value.strip()"],
    ["@root_validator", "def check_all(cls, values):", "    return values"],
    ["model_config = ConfigDict(from_attributes=True)"],
    ["def summary(self):", "    return self.json()"],
)
DEPS_MODULE = """\
$imports

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")
pwd_context = CryptContext(schemes=["bcrypt"])


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


async def get_session():
    async with async_session() as session:
        yield session


async def get_current_user(token: str = $Depends(oauth2_scheme)):
    payload = jwt.decode(token, "secret", algorithms=["HS256"])
    return payload


def verify_token(x_token: str = $Header(...)):
    if x_token != "fake-super-secret-token":
        raise $HTTPException(status_code=400, detail="X-Token header invalid")


def helper():
    time.sleep(1)
    return requests.get("https://example.com").json()


async def notify_user(user_id: int):
    await asyncio.sleep(0)


async def fetch_items():
    return []
"""
PYPROJECTS = (
    "",
    '[project]\nname = "app"\ndependencies = ["fastapi", "pydantic>=2"]\n',
    '[project]\nname = "app"\ndependencies = ["fastapi<0.100", "pydantic<2"]\n',
    "[tool.fastapi-lint]\npydantic-version = 2\n",
    '[tool.fastapi-lint]\nrouter-classes = ["app.custom.Router"]\n'
    '[tool.fastapi-lint.rules.FAPI201]\nscope = "all"\n',
)


def fastapi_names(style: str) -> tuple[str, dict[str, str]]:
    """The import line of a module's fastapi names, and how its templates spell them."""
    if style == "from":
        return f"from fastapi import {', '.join(FASTAPI_NAMES)}", {n: n for n in FASTAPI_NAMES}
    alias = "fastapi" if style == "module" else "fa"
    line = "import fastapi" if style == "module" else "import fastapi as fa"
    return line, {name: f"{alias}.{name}" for name in FASTAPI_NAMES}


def render_module(
    lines: list[str], style: str, extra_imports: list[str], *, future: bool = False
) -> str:
    """A module: the imports, then the templated lines with `$Name` resolved."""
    import_line, names = fastapi_names(style)
    imports = "\n".join([OTHER_IMPORTS.rstrip("\n"), import_line, *extra_imports])
    text = Template("\n".join(lines)).safe_substitute(names, app="app", imports=imports)
    if "$imports" not in "\n".join(lines):
        text = imports + "\n\n\n" + text
    if future:
        text = "from __future__ import annotations\n" + text
    return text + "\n"


@st.composite
def statements(draw, is_async: bool, depth: int = 0) -> list[str]:
    pool = STATEMENTS + (ASYNC_STATEMENTS if is_async else ())
    lines: list[str] = []
    for part in draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4)):
        part = list(part)
        if len(part) == 1 and draw(st.integers(0, 5)) == 0:
            part[0] += draw(st.sampled_from(NOQA))
        lines += part
    if depth < 2 and draw(st.booleans()) and draw(st.booleans()):
        inner = draw(statements(is_async, depth + 1))
        header = draw(st.sampled_from(["if item_id:", "for n in range(2):", "while False:"]))
        lines += [header, *(f"    {line}" for line in inner)]
    return lines


@st.composite
def path_expressions(draw) -> str:
    """A route's path: a literal mostly, else a constant, a concatenation, an f-string."""
    path = draw(st.sampled_from(PATHS))
    return draw(
        st.sampled_from(
            [repr(path), repr(path), "PATH", f"PREFIX + {path!r}", f'f"/v{{VERSION}}{path}"']
        )
    )


@st.composite
def routes(draw, receiver: str, index: int) -> list[str]:
    """One route function, with one or two route decorators (or `add_api_route`)."""
    is_async = draw(st.booleans())
    name = f"{draw(st.sampled_from(['read', 'create', 'update', 'delete', 'list']))}_{index}"
    decorators = []
    for _ in range(draw(st.integers(1, 2))):
        method = draw(st.sampled_from(METHODS))
        arguments = [draw(path_expressions())]
        if draw(st.booleans()):
            arguments.append(f"status_code={draw(st.sampled_from(STATUS_CODES))}")
        if draw(st.booleans()):
            arguments.append(f"response_model={draw(st.sampled_from(RESPONSE_MODELS))}")
        arguments += draw(st.lists(st.sampled_from(DECORATOR_OPTIONS), max_size=2, unique=True))
        if draw(st.integers(0, 6)) == 0:
            method = "api_route"
            arguments.append('methods=["GET", "POST"]')
        decorators.append(f"@{receiver}.{method}({', '.join(arguments)})")
    parameters = draw(st.lists(st.sampled_from(PARAMETERS), max_size=4, unique=True))
    parameters = sorted(parameters, key=lambda parameter: parameter[1])
    signature = ", ".join(parameter for parameter, _ in parameters)
    returns = draw(st.sampled_from(["", " -> Item", " -> None", " -> dict", " -> list[Item]"]))
    body = []
    if draw(st.booleans()):
        body.append('"""What the route does."""')
    body += draw(statements(is_async))
    definition = f"{'async def' if is_async else 'def'} {name}({signature}){returns}:"
    lines = [*decorators, definition, *(f"    {line}" for line in body)]
    if draw(st.integers(0, 8)) == 0:  # registered without a decorator
        lines += [f"{receiver}.add_api_route('/added/{index}', {name}, methods=['GET'])"]
    return lines


def websocket_route(receiver: str, index: int) -> list[str]:
    return [
        f'@{receiver}.websocket("/ws/{index}")',
        f"async def socket_{index}(websocket: $WebSocket):",
        "    await websocket.accept()",
        "    time.sleep(1)",
    ]


@st.composite
def router_module(draw, module: str, children: list[str], first_index: int) -> dict:
    """`router = APIRouter(...)` with routes, including the routers of `children`."""
    options = draw(
        st.lists(
            st.sampled_from(
                ['prefix="/items"', 'tags=["items"]', "dependencies=[$Depends(verify_token)]"]
            ),
            max_size=2,
            unique=True,
        )
    )
    lines = [*draw(st.sampled_from(MODULE_PRELUDES)), ""]
    lines += [f"router = $APIRouter({', '.join(options)})", ""]
    for offset in range(draw(st.integers(1, 4))):
        lines += [*draw(routes("router", first_index + offset)), "", ""]
    if draw(st.integers(0, 5)) == 0:
        lines += [*websocket_route("router", first_index), ""]
    imports = [deps_import(draw, module), "from app.models import *"]
    for child in children:
        alias = f"{child}_router"
        imports.append(draw(st.sampled_from(child_imports(child, alias))))
        prefix = draw(st.sampled_from(['"/sub"', '""', f'"/{child}"']))
        lines.append(f"router.include_router({alias}, prefix={prefix})")
    style = draw(st.sampled_from(["from", "module", "alias"]))
    future = draw(st.booleans())
    return {f"app/api/{module}.py": render_module(lines, style, imports, future=future)}


def child_imports(child: str, alias: str) -> list[str]:
    return [
        f"from app.api.{child} import router as {alias}",
        f"from .{child} import router as {alias}",
    ]


def deps_import(draw, module: str) -> str:
    names = "get_db, get_session, get_current_user, verify_token, helper, notify_user"
    return draw(
        st.sampled_from(
            [
                "from app.deps import *",
                f"from app.deps import {names}, fetch_items, oauth2_scheme, pwd_context",
                f"from ..deps import {names}, fetch_items, oauth2_scheme, pwd_context",
            ]
        )
    )


@st.composite
def main_module(draw, included: list[str]) -> dict:
    options = draw(
        st.lists(
            st.sampled_from(
                ['title="Shop"', "debug=True", "dependencies=[$Depends(verify_token)]"]
            ),
            max_size=2,
            unique=True,
        )
    )
    lines = [f"app = $FastAPI({', '.join(options)})", ""]
    for part in draw(st.lists(st.sampled_from(MIDDLEWARE), max_size=3)):
        lines += [*part, ""]
    imports = [deps_import(draw, "main").replace("..deps", ".deps")]
    for module in included:
        spelling = draw(st.sampled_from(["module", "router", "relative"]))
        if spelling == "module":
            imports.append(f"from app.api import {module}")
            target = f"{module}.router"
        elif spelling == "router":
            imports.append(f"from app.api.{module} import router as {module}_router")
            target = f"{module}_router"
        else:
            imports.append(f"from .api.{module} import router as {module}_router")
            target = f"{module}_router"
        prefix = draw(st.sampled_from(["", ', prefix="/v1"', f', prefix="/{module}"']))
        lines.append(f"app.include_router({target}{prefix})")
    if included and draw(st.integers(0, 4)) == 0:  # all of them again, through a loop
        lines += [f"for included in ({', '.join(f'{m}_r' for m in included)},):"]
        lines += ["    app.include_router(included, prefix='/again')"]
        imports += [f"from app.api.{m} import router as {m}_r" for m in included]
    if draw(st.integers(0, 3)) == 0:
        lines += [
            "sub = $FastAPI()",
            "app.mount('/sub', sub)",
            "@sub.get('/ping')",
            "async def ping():",
            "    time.sleep(1)",
            "app.include_router(late_router)",
            "late_router = $APIRouter()",
            "@late_router.post('/late')",
            "def late():",
            "    return {}",
        ]
    lines.append("")
    for offset in range(draw(st.integers(0, 2))):
        lines += [*draw(routes("app", 100 + offset)), "", ""]
    if draw(st.booleans()):
        lines += [
            "@app.exception_handler(Exception)",
            "async def on_error(request: $Request, exc: Exception):",
            '    return JSONResponse(status_code=500, content={"detail": str(exc)})',
            "",
        ]
    if draw(st.booleans()):
        lines += ['if __name__ == "__main__":', '    uvicorn.run("app.main:app", reload=True)']
    style = draw(st.sampled_from(["from", "module", "alias"]))
    return {"app/main.py": render_module(lines, style, imports)}


@st.composite
def models_module(draw) -> dict:
    lines = [
        "from pydantic import BaseModel, ConfigDict, Field, constr, root_validator, validator",
        "",
    ]
    for name in ("Item", "User", "UserOut"):
        fields = draw(st.lists(st.sampled_from(MODEL_FIELDS), min_size=1, max_size=3, unique=True))
        if name == "UserOut":
            fields = [*fields, "password: str", "api_key: str | None = None"]
        lines += ["", "", f"class {name}(BaseModel):", *(f"    {field}" for field in fields)]
        for extra in draw(st.lists(st.sampled_from(MODEL_EXTRAS), max_size=2, unique_by=id)):
            lines += ["", *(f"    {line}" for line in extra)]
    lines += ["", "", "def dump(item: Item):", "    return item.dict(exclude_unset=True)", ""]
    return {"app/models.py": "\n".join(lines)}


@st.composite
def projects(draw) -> dict[str, str | bytes]:
    """A FastAPI project: relative path -> text, or bytes for a Python file."""
    names = ["items", "users", "admin"][: draw(st.integers(1, 3))]
    # Which routers include which: any graph, cycles included (never run, only read).
    children = {
        name: draw(st.lists(st.sampled_from(names), max_size=2, unique=True)) for name in names
    }
    included = draw(st.lists(st.sampled_from(names), max_size=len(names), unique=True))
    files = {"pyproject.toml": draw(st.sampled_from(PYPROJECTS))}
    if draw(st.booleans()):
        files["app/__init__.py"] = ""
        files["app/api/__init__.py"] = ""
    for position, name in enumerate(names):
        kids = [child for child in children[name] if child != name]
        files.update(draw(router_module(name, kids, position * 10)))
    files.update(draw(main_module(included)))
    files.update(draw(models_module()))
    files["app/deps.py"] = render_module(
        DEPS_MODULE.splitlines(), draw(st.sampled_from(["from", "module", "alias"])), []
    )
    files["app/settings.py"] = draw(st.sampled_from(SETTINGS_MODULES))
    if draw(st.booleans()):  # a src layout
        files = {
            (f"src/{name}" if name.startswith("app/") else name): text
            for name, text in files.items()
        }
    return {
        name: draw(st.sampled_from(DRESSINGS))(text) if name.endswith(".py") else text
        for name, text in files.items()
    }


def _tabs(text: str) -> str:
    """Each level of four-space indentation as a tab."""
    lines = []
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        levels, extra = divmod(len(line) - len(stripped), 4)
        lines.append("\t" * levels + " " * extra + stripped)
    return "\n".join(lines)


# How a file is written: the bytes, line endings and indentation fixes must keep.
DRESSINGS = (
    lambda text: text.encode(),
    lambda text: text.encode(),
    lambda text: text.replace("\n", "\r\n").encode(),
    lambda text: b"\xef\xbb\xbf" + text.encode(),
    lambda text: ("# -*- coding: latin-1 -*-\n# caf\u00e9\n" + text).encode("latin-1"),
    lambda text: _tabs(text).encode(),
    lambda text: text.rstrip("\n").encode(),
)


@fuzz(ci=30, long=300)
@given(project=projects())
def test_generated_projects_compile(project: dict[str, str | bytes]) -> None:
    """The generator's own promise: every module compiles (so every fix must keep it so)."""
    for name, data in project.items():
        if name.endswith(".py"):
            assert isinstance(data, bytes)
            assert compiles(data, name), f"{name}:\n{data.decode('utf-8', 'replace')}"


@fuzz(ci=12, long=1000)
@given(project=projects())
def test_projects_are_linted_the_same_way_however_run(project: dict[str, str | bytes]) -> None:
    """Serial, again, in a pool of workers, cold and then from the cache: one report."""
    with scratch() as root:
        write(root, project)
        serial = report(check(root))
        assert report(check(root)) == serial
        with pool_for_few_files():
            assert report(check(root, jobs=2)) == serial
        cache = root / ".fastapi_lint_cache"
        assert report(check(root, cache_dir=cache)) == serial  # cold: fills the cache
        warm = check(root, cache_dir=cache)
        assert report(warm) == serial
        assert warm.cache_hits > 0
        route_table([root], every_rule(root))  # the route table builds


@contextmanager
def pool_for_few_files() -> Iterator[None]:
    """Check even a handful of files in the worker pool (normally run in-process)."""
    saved = runner.FILES_PER_WORKER
    runner.FILES_PER_WORKER = 1
    try:
        yield
    finally:
        runner.FILES_PER_WORKER = saved


@fuzz(ci=12, long=1000)
@given(project=projects())
def test_project_fixes_compile_and_are_final(project: dict[str, str | bytes]) -> None:
    with scratch() as root:
        write(root, project)
        assert_fixes_compile_and_are_final(root)


# --- the real command line -----------------------------------------------------------------


def fastapi_lint() -> list[str]:
    """The installed `fastapi-lint` script, else `python -m fastapi_lint`."""
    for directory in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        script = directory / "fastapi-lint"
        if script.is_file():
            return [str(script)]
    return [sys.executable, "-m", "fastapi_lint"]


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One run in a fresh interpreter (its own hash seed), from the project root."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in TOOL_ENVIRONMENT and key != "PYTHONHASHSEED"
    }
    done = subprocess.run(
        [*fastapi_lint(), *args],
        cwd=root,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode in (0, 1), (args, done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "error:" not in done.stderr, done.stderr
    return done


@fuzz(ci=3, long=100)
@given(project=projects())
def test_cli_is_deterministic_and_fixes_cleanly(project: dict[str, str | bytes]) -> None:
    """The real CLI: cold, from the cache and serially, in separate processes, prints the
    same report; `routes` works; `--fix` leaves compiling files and a second one is a no-op."""
    every = ("--select", "ALL", "--preview", "--output-format", "json")
    with scratch() as root:
        write(root, project)
        cold = cli(root, "check", *every, "--cache-dir", ".cache", ".")
        cached = cli(root, "check", *every, "--cache-dir", ".cache", ".")
        serial = cli(root, "check", *every, "--no-cache", "--jobs", "1", ".")
        assert cold.stdout == cached.stdout == serial.stdout
        assert cold.returncode == cached.returncode == serial.returncode
        cli(root, "routes", "--no-cache", "--output-format", "json", ".")
        shutil.rmtree(root / ".cache")
        before = snapshot(root)
        cli(root, "check", "--fix", "--unsafe-fixes", *every, ".")
        after = snapshot(root)
        assert after.keys() == before.keys()
        for name, data in after.items():
            assert compiles(data, name) or not compiles(before[name]), name
        cli(root, "check", "--fix", "--unsafe-fixes", *every, ".")
        assert snapshot(root) == after
