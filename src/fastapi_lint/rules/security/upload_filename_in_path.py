from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.names import canonical
from fastapi_lint.route_params import subscript_items, unquoted
from fastapi_lint.rule import Finding, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.security_facts import descendants, parents
from fastapi_lint.semantic import BindingKind, FileModel, FunctionInfo, Scope, is_none, string_value

_UPLOAD_FILES = frozenset(
    {
        "fastapi.UploadFile",
        "fastapi.datastructures.UploadFile",
        "starlette.datastructures.UploadFile",
    }
)
_WRAPPERS = frozenset(
    {"typing.Optional", "typing.Union", "typing.Annotated", "typing_extensions.Annotated"}
)
_SEQUENCES = frozenset(
    {"builtins.list", "builtins.tuple", "builtins.set", "typing.List", "typing.Sequence",
     "typing.Tuple", "typing.Set", "collections.abc.Sequence"}
)  # fmt: skip
# Callables that take a filesystem path (any argument).
_PATH_SINKS = frozenset(
    {
        "builtins.open", "io.open", "os.open", "codecs.open", "aiofiles.open",
        "anyio.open_file", "os.path.join", "pathlib.Path", "pathlib.PurePath",
        "pathlib.PurePosixPath", "pathlib.PureWindowsPath", "anyio.Path", "os.remove",
        "os.unlink", "os.rename", "os.replace", "os.makedirs", "os.mkdir", "os.rmdir",
        "os.chmod", "os.symlink", "os.link", "shutil.copy", "shutil.copy2", "shutil.copyfile",
        "shutil.move", "shutil.rmtree", "shutil.copytree", "shutil.unpack_archive",
        "aiofiles.os.remove", "aiofiles.os.rename", "aiofiles.os.makedirs",
    }
)  # fmt: skip
# Path methods whose argument becomes part of the path.
_PATH_METHODS = frozenset({"joinpath", "with_name"})
# What reduces a path to its last part: what is left cannot climb out of a directory.
_LAST_PART = frozenset({"name", "stem", "suffix", "suffixes"})
# String methods that keep every character that matters (`/`, `..`) of the file name.
_KEEPING_METHODS = frozenset(
    {"lower", "upper", "strip", "lstrip", "rstrip", "casefold", "encode", "decode", "title"}
)
# Calls that resolve or compare paths: the function checks where the path ends up.
_CONTAINMENT = frozenset(
    {"os.path.realpath", "os.path.abspath", "os.path.normpath", "os.path.commonpath",
     "os.path.commonprefix"}
)  # fmt: skip
_CONTAINMENT_METHODS = frozenset({"resolve", "is_relative_to", "relative_to", "absolute"})
_SEPARATORS = ("/", "\\", "..")


class UploadFilenameInPath(Rule):
    """`UploadFile.filename` used to build a filesystem path: path traversal.

    ## What it does
    Checks for the `filename` of an uploaded file (`UploadFile`, FastAPI's or Starlette's)
    used to build a filesystem path: passed to `open()` (also `aiofiles.open`,
    `anyio.open_file`), `os.path.join`, `Path(...)`, a `shutil` or `os` function that takes
    a path, `Path.joinpath`/`with_name`, or joined with `/` (`UPLOAD_DIR / file.filename`).
    The file name counts also once kept in a variable or built into a string: an f-string,
    `+`, `%` or `.format()`, `filename or "upload"`, `.lower()`, `.strip()`, a slice.

    The uploaded file is a parameter annotated `UploadFile` (also `Optional[...]`,
    `Annotated[...]`, `File()`), or the loop variable over a `list[UploadFile]`
    parameter, in any function: a route or a helper that takes the upload.

    ## Why is this bad?
    The file name is whatever the client sends: `../../app/main.py` or
    `/etc/cron.d/job`. Joined into a path, it writes (or deletes, or reads) any file the
    server process can reach, outside the upload directory: path traversal, often remote
    code execution.

    Not reported:

    - a name reduced to its last part first: `os.path.basename(...)`, `Path(...).name`
      (or `.stem`, `.suffix`), `werkzeug.utils.secure_filename(...)`, or passed through
      any other function, which may sanitise it (only the string operations listed above
      keep it as it is);
    - a function that checks where the path ends up: it calls `os.path.realpath`,
      `abspath`, `normpath` or `commonpath`, or `Path.resolve()`, `is_relative_to()`,
      `relative_to()`, or tests the name for `/`, `\\` or `..` (`if ".." in filename:`),
      or matches it with a regular expression (`re.fullmatch(...)`);
    - keys of object stores and other strings that are no filesystem path
      (`s3.upload_fileobj(file.file, bucket, file.filename)`);
    - a file name handed to a helper that builds the path (the helper's own parameter is
      a plain string).

    ## Example
    ```python
    from fastapi import FastAPI, UploadFile

    app = FastAPI()


    @app.post("/uploads")
    async def upload(file: UploadFile) -> dict:
        \"\"\"Store an upload.\"\"\"
        with open(f"uploads/{file.filename}", "wb") as out:
            out.write(await file.read())
        return {"stored": True}
    ```

    Use instead:
    ```python
    import uuid
    from pathlib import Path

    from fastapi import FastAPI, UploadFile

    app = FastAPI()


    @app.post("/uploads")
    async def upload(file: UploadFile) -> dict:
        \"\"\"Store an upload under a name the server chooses.\"\"\"
        suffix = Path(file.filename or "").suffix
        with open(f"uploads/{uuid.uuid4().hex}{suffix}", "wb") as out:
            out.write(await file.read())
        return {"stored": True}
    ```

    ## Fix safety
    There is no fix: whether to keep the client's name (sanitised) or generate one is the
    author's choice.

    ## Options
    None.
    """

    code = "FAPI311"
    name = "upload-filename-in-path"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.ERROR
    triggers = (b"filename",)

    def screen(self, facts: Facts) -> bool:
        return {"UploadFile", "filename"} <= facts.names

    def check(self, model: FileModel) -> Iterator[Finding]:
        for function, info in model.functions.items():
            uploads = _upload_names(model, function, info)
            if not uploads:
                continue
            flow = _Flow(model, info.scope, uploads)
            if flow.checks_containment(function):
                continue
            for sink, origin in flow.sinks(function):
                yield self.finding(sink, _message(model, origin))


def _upload_names(model: FileModel, function: cst.FunctionDef, info: FunctionInfo) -> set[str]:
    """The names that hold an `UploadFile` in the function: its parameters annotated so,
    and loop variables over its `list[UploadFile]` parameters."""
    outer = info.scope.parent
    if outer is None:
        return set()
    params = function.params
    found, sequences = set(), set()
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        annotation = param.annotation.annotation if param.annotation is not None else None
        kind = _upload_kind(model, annotation, outer) if annotation is not None else None
        if kind == "one":
            found.add(param.name.value)
        elif kind == "many":
            sequences.add(param.name.value)
    for node in descendants(function.body):
        if (
            isinstance(node, cst.For)
            and isinstance(node.target, cst.Name)
            and isinstance(node.iter, cst.Name)
            and node.iter.value in sequences
        ):
            found.add(node.target.value)
    return {name for name in found if _bound_once_here(info.scope, name)}


def _upload_kind(model: FileModel, annotation: cst.BaseExpression, scope: Scope) -> str | None:
    """ "one" for `UploadFile` (also optional or annotated), "many" for a list of them."""
    annotation = unquoted(annotation)
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        kinds = {
            _upload_kind(model, side, scope)
            for side in (annotation.left, annotation.right)
            if not is_none(side)
        }
        return kinds.pop() if len(kinds) == 1 else None
    if isinstance(annotation, cst.Subscript):
        origin = canonical(model.qualified_name(annotation.value, scope) or "")
        items = [i for i in subscript_items(annotation) if not is_none(i)]
        if origin in _WRAPPERS and items:
            return _upload_kind(model, items[0], scope)
        if origin in _SEQUENCES and len(items) == 1:
            return "many" if _upload_kind(model, items[0], scope) == "one" else None
        return None
    qualified = model.qualified_name(annotation, scope)
    return "one" if canonical(qualified or "") in _UPLOAD_FILES else None


def _bound_once_here(scope: Scope, name: str) -> bool:
    """The name is the parameter (or loop variable) only: never rebound to something else."""
    bindings = scope.bindings.get(name, [])
    return len(bindings) == 1 and bindings[0].kind in (BindingKind.PARAM, BindingKind.OTHER)


@dataclass
class _Flow:
    """Where the client's file name goes within one function (not into nested ones)."""

    model: FileModel
    scope: Scope  # the function's own scope
    uploads: set[str]
    # Names of the function bound to a string that still holds the file name.
    tainted: dict[str, cst.BaseExpression] = field(default_factory=dict)

    def __post_init__(self) -> None:
        changed = True
        while changed:  # until no assignment adds a name (`a = f.filename; b = a + ".x"`)
            changed = False
            for name, value in self._assignments():
                origin = self.origin(value) if name not in self.tainted else None
                if origin is not None:
                    self.tainted[name] = origin
                    changed = True

    def _assignments(self) -> Iterator[tuple[str, cst.BaseExpression]]:
        for name, bindings in self.scope.bindings.items():
            for binding in bindings:
                if binding.kind is BindingKind.ASSIGN and binding.value is not None:
                    yield name, binding.value

    def origin(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        """The `x.filename` a string expression still holds as it is, else None."""
        if isinstance(expr, cst.Attribute):
            if (
                expr.attr.value == "filename"
                and isinstance(expr.value, cst.Name)
                and expr.value.value in self.uploads
            ):
                return expr
            return None
        if isinstance(expr, cst.Name):
            return self.tainted.get(expr.value)
        return self._composite_origin(expr)

    def _composite_origin(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        parts: list[cst.BaseExpression] = []
        if isinstance(expr, cst.FormattedString):
            parts = [
                p.expression for p in expr.parts if isinstance(p, cst.FormattedStringExpression)
            ]
        elif isinstance(expr, cst.BinaryOperation) and isinstance(
            expr.operator, cst.Add | cst.Modulo
        ):
            parts = [expr.left, expr.right, *_tuple_items(expr.right)]
        elif isinstance(expr, cst.BooleanOperation):
            parts = [expr.left, expr.right]
        elif isinstance(expr, cst.IfExp):
            parts = [expr.body, expr.orelse]
        elif isinstance(expr, cst.Subscript) and all(
            isinstance(element.slice, cst.Slice) for element in expr.slice
        ):
            parts = [expr.value]
        elif isinstance(expr, cst.Call):
            parts = self._call_parts(expr)
        for part in parts:
            found = self.origin(part)
            if found is not None:
                return found
        return None

    def _call_parts(self, call: cst.Call) -> list[cst.BaseExpression]:
        """The arguments of a call that keep the file name in its result."""
        func = call.func
        if isinstance(func, cst.Attribute):
            if func.attr.value in _KEEPING_METHODS:
                return [func.value]
            if func.attr.value == "format" and string_value(func.value) is not None:
                return [arg.value for arg in call.args]
            if func.attr.value == "join" and string_value(func.value) is not None:
                return [e.value for arg in call.args for e in _elements(arg.value)]
            return []
        if self.model.qualified_name(func, self.scope) == "builtins.str" and call.args:
            return [call.args[0].value]
        return []

    def sinks(self, function: cst.FunctionDef) -> Iterator[tuple[cst.CSTNode, cst.BaseExpression]]:
        """(the node that builds a path, the `x.filename` it holds) in the function's body."""
        parent_of = parents(self.model.module)
        for node in descendants(function.body):
            arguments = self._path_arguments(node)
            origin = next(
                (found for arg in arguments if (found := self.origin(arg)) is not None), None
            )
            if origin is not None and not _reduced_to_last_part(node, parent_of):
                yield node, origin

    def _path_arguments(self, node: cst.CSTNode) -> list[cst.BaseExpression]:
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide):
            return [node.left, node.right]  # `/` with a string: one side is a path
        if not isinstance(node, cst.Call):
            return []
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _PATH_METHODS:
            return [arg.value for arg in node.args]
        qualified = canonical(self.model.qualified_name(func, self.scope) or "")
        return [arg.value for arg in node.args] if qualified in _PATH_SINKS else []

    def checks_containment(self, function: cst.FunctionDef) -> bool:
        """The function resolves the path or tests the name: it may confine it."""
        for node in descendants(function.body):
            if isinstance(node, cst.Call):
                func = node.func
                if isinstance(func, cst.Attribute) and func.attr.value in _CONTAINMENT_METHODS:
                    return True
                qualified = self.model.qualified_name(func, self.scope) or ""
                if qualified in _CONTAINMENT or qualified.startswith("re."):
                    return True
            elif isinstance(node, cst.Comparison) and _tests_separators(node):
                return True
        return False


def _tests_separators(comparison: cst.Comparison) -> bool:
    """`".." in name`, `"/" not in name`."""
    if not comparison.comparisons:
        return False
    if not isinstance(comparison.comparisons[0].operator, cst.In | cst.NotIn):
        return False
    text = string_value(comparison.left)
    return text is not None and any(separator in text for separator in _SEPARATORS)


def _reduced_to_last_part(node: cst.CSTNode, parent_of: dict[cst.CSTNode, cst.CSTNode]) -> bool:
    """`Path(file.filename).name`: only the last part of the path is used."""
    parent = parent_of.get(node)
    return isinstance(parent, cst.Attribute) and parent.attr.value in _LAST_PART


def _tuple_items(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    return [e.value for e in expr.elements] if isinstance(expr, cst.Tuple) else []


def _elements(expr: cst.BaseExpression) -> list[cst.BaseElement]:
    return list(expr.elements) if isinstance(expr, cst.List | cst.Tuple) else []


def _message(model: FileModel, origin: cst.BaseExpression) -> str:
    name = model.module.code_for_node(origin)
    return (
        f"`{name}` (a file name the client chooses) builds a filesystem path: `../` in it "
        "reaches outside the upload directory; use `os.path.basename(...)` or a generated name"
    )
