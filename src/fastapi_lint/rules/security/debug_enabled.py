from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi_lint import names
from fastapi_lint.diagnostics import Severity
from fastapi_lint.lazy import libcst as cst
from fastapi_lint.rule import Finding, Option, Rule
from fastapi_lint.screen import Facts
from fastapi_lint.security_facts import (
    ancestors,
    boolean,
    descendants,
    is_literal_true,
    is_main_guard,
    is_test_file,
    written_values,
)
from fastapi_lint.semantic import CallSite, FileModel, string_value

_APPS = frozenset({names.FASTAPI_APP, "starlette.applications.Starlette"})
_UVICORN = frozenset({"uvicorn.run", "uvicorn.main.run", "uvicorn.Config", "uvicorn.config.Config"})
# Words of a condition or function name that say "development": `if settings.DEBUG:`,
# `if ENVIRONMENT == "local":`, `def run_dev_server():`.
_DEVELOPMENT_WORDS = frozenset(
    {"debug", "debugging", "dev", "devel", "develop", "development", "local", "localhost", "reload"}
)
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


class DebugEnabled(Rule):
    """Debug mode or the auto-reloader is switched on in code that ships.

    ## What it does
    Checks for `FastAPI(debug=True)` (also Starlette's `Starlette(debug=True)`, and a
    subclass of `FastAPI` defined in the file), and for `uvicorn.run(...)` or
    `uvicorn.Config(...)` with `reload=True` or `debug=True`, where the `True` is written in
    the code (the literal, or a name bound once to it).

    The call is not flagged inside a development guard:

    - the body of an `if __name__ == "__main__":` block, or a module-level function that
      the module uses only in such blocks;
    - the body (not the `else`) of an `if` whose condition names development: a word of
      a name, attribute or string in it is `debug`, `dev`, `development`, `local` or
      `reload` (`if settings.DEBUG:`, `if ENV == "local":`, `if args.reload:`; `device`
      is not such a word);
    - a function whose name says so (`def dev():`, `def run_local():`);
    - a test file (see the option).

    ## Why is this bad?
    With `debug=True`, an unhandled error answers with the full traceback as an HTML page:
    source lines, file paths, and the local values of the frames, which may hold secrets,
    queries and other users' data. `reload=True` starts uvicorn's file watcher, a
    development server that restarts the app whenever a file changes, runs a single worker
    and refuses `workers=`. Both belong to a developer's machine; hard-coded in the code that
    starts the app, they ship to production.

    Values read from settings or the environment are not flagged (`debug=settings.DEBUG`,
    `reload=os.getenv("RELOAD") == "1"`), nor a conditional expression
    (`reload=True if DEV else False`: the condition is the guard), nor `fastapi dev`, which
    is the development command by design.

    ## Example
    ```python
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI(debug=True)


    def serve() -> None:
        uvicorn.run("shop.main:app", host="0.0.0.0", reload=True)
    ```

    Use instead:
    ```python
    import os

    import uvicorn
    from fastapi import FastAPI

    app = FastAPI(debug=os.getenv("DEBUG") == "1")


    def serve() -> None:
        uvicorn.run("shop.main:app", host="0.0.0.0")


    if __name__ == "__main__":
        uvicorn.run("shop.main:app", reload=True)
    ```

    ## Fix safety
    There is no fix: where the switch should come from (a setting, the command line) is the
    project's choice.

    ## Options
    - `skip-test-files` (default `true`): do not check test files: files under a `tests/`
      or `test/` directory of the project, and files named `test_*.py`, `*_test.py` or
      `conftest.py`. A test app may well run in debug mode.
    """

    code = "FAPI307"
    name = "debug-enabled"
    preview = True  # not yet reviewed on enough real findings: see its page
    severity = Severity.WARNING
    triggers = (b"debug", b"reload")
    options = (Option("skip-test-files", True, "Do not check test files.", boolean),)

    def screen(self, facts: Facts) -> bool:
        return bool(facts.keywords & {"debug", "reload"})

    def check(self, model: FileModel) -> Iterator[Finding]:
        if self.settings["skip-test-files"] and is_test_file(model):
            return
        for site, switch in _switched_on(model):
            if _in_development_guard(model, site.call):
                continue
            yield self.finding(switch, _message(model, site, switch))


def _switched_on(model: FileModel) -> Iterator[tuple[CallSite, cst.Arg]]:
    """Calls that switch debug or reload on, with the argument that does."""
    for site in model.calls:
        if model.class_name(site.call.func, site.scope) in _APPS:
            switches = ("debug",)
        elif model.callee(site) in _UVICORN:
            switches = ("reload", "debug")
        else:
            continue
        for arg in site.call.args:
            if arg.keyword is not None and arg.keyword.value in switches:
                values = list(written_values(model, arg.value, site.scope, branches=False))
                if values and all(is_literal_true(value) for value in values):
                    yield site, arg


def _message(model: FileModel, site: CallSite, switch: cst.Arg) -> str:
    keyword = switch.keyword.value if switch.keyword is not None else "debug"
    written = f"`{model.module.code_for_node(switch).strip().rstrip(',').strip()}`"
    if not is_literal_true(switch.value):
        written += " (`True`)"
    if model.callee(site) in _UVICORN:
        what = "the auto-reloader" if keyword == "reload" else "debug mode"
        return f"{written} runs uvicorn with {what} outside a development guard"
    return f"{written} makes the app answer errors with tracebacks, outside a development guard"


def _in_development_guard(model: FileModel, call: cst.Call) -> bool:
    for test in _guarding_tests(model, call):
        if is_main_guard(test) or _names_development(test):
            return True
    return any(
        isinstance(node, cst.FunctionDef)
        and (_says_development(node.name.value) or _called_only_as_script(model, node))
        for node in ancestors(model.module, call)
    )


def _guarding_tests(model: FileModel, node: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    """The tests of the `if` statements whose body (not `else`) holds the node."""
    child = node
    for parent in ancestors(model.module, node):
        if isinstance(parent, cst.If) and child is parent.body:
            yield parent.test
        child = parent


def _names_development(test: cst.BaseExpression) -> bool:
    for node in (test, *descendants(test)):
        text = None
        if isinstance(node, cst.Name):
            text = node.value
        elif isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            text = string_value(node)
        if text is not None and _says_development(text):
            return True
    return False


def _says_development(text: str) -> bool:
    """`DEBUG`, `is_dev`, `runLocal`, `"development"`: a word of the text says development."""
    return any(word.lower() in _DEVELOPMENT_WORDS for word in _WORD.findall(text))


def _called_only_as_script(model: FileModel, function: cst.FunctionDef) -> bool:
    """A module-level function used in this module only under `if __name__ == "__main__":`
    (and used there at least once)."""
    name = function.name.value
    if not any(binding.node is function for binding in model.module_scope.bindings.get(name, [])):
        return False
    uses = [
        node
        for node in descendants(model.module, into_functions=True)
        if isinstance(node, cst.Name) and node.value == name and node is not function.name
    ]
    return bool(uses) and all(_under_main_guard(model, use) for use in uses)


def _under_main_guard(model: FileModel, node: cst.CSTNode) -> bool:
    return any(is_main_guard(test) for test in _guarding_tests(model, node))
