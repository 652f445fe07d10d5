"""Qualified names of the FastAPI and Starlette objects the model recognises.

FastAPI re-exports many Starlette objects and exposes its own under several module paths;
every spelling a user can import is mapped to one canonical name here.
"""

from __future__ import annotations

FASTAPI_APP = "fastapi.FastAPI"
API_ROUTER = "fastapi.APIRouter"
DEPENDS = "fastapi.Depends"
SECURITY = "fastapi.Security"
CORS_MIDDLEWARE = "starlette.middleware.cors.CORSMiddleware"
MIDDLEWARE = "starlette.middleware.Middleware"
HTTP_EXCEPTION = "fastapi.HTTPException"
STATUS = "starlette.status"
BASE_HTTP_MIDDLEWARE = "starlette.middleware.base.BaseHTTPMiddleware"
ANNOTATED = "typing.Annotated"

_ALIASES: dict[str, str] = {
    "fastapi.applications.FastAPI": FASTAPI_APP,
    "fastapi.routing.APIRouter": API_ROUTER,
    "fastapi.param_functions.Depends": DEPENDS,
    "fastapi.params.Depends": DEPENDS,
    "fastapi.param_functions.Security": SECURITY,
    "fastapi.params.Security": SECURITY,
    "fastapi.middleware.cors.CORSMiddleware": CORS_MIDDLEWARE,
    "fastapi.middleware.Middleware": MIDDLEWARE,
    "fastapi.exceptions.HTTPException": HTTP_EXCEPTION,
    "starlette.exceptions.HTTPException": HTTP_EXCEPTION,
    "fastapi.status": STATUS,
    "fastapi.middleware.base.BaseHTTPMiddleware": BASE_HTTP_MIDDLEWARE,
    "typing_extensions.Annotated": ANNOTATED,
    "pydantic.main.BaseModel": "pydantic.BaseModel",
    "pydantic.config.ConfigDict": "pydantic.ConfigDict",
    "pydantic.config.Extra": "pydantic.Extra",
    "pydantic_settings.main.BaseSettings": "pydantic_settings.BaseSettings",
}

# Route decorators: the HTTP verbs, plus api_route which takes methods=[...].
HTTP_METHOD_DECORATORS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "trace"}
)
API_ROUTE = "api_route"
ADD_API_ROUTE = "add_api_route"

# Modules whose import marks a file as FastAPI code.
FASTAPI_MODULES = frozenset({"fastapi", "starlette"})


def canonical(qualified_name: str) -> str:
    """The canonical spelling of a qualified name, resolving known re-exports."""
    return _ALIASES.get(qualified_name, qualified_name)


# Builtins that `from <module> import *` rebinds, for libraries whose star exports are known
# (by top-level package). A star import of any other module that is not part of the project
# may bind anything, so builtin names stay unresolved after it.
STAR_IMPORT_BUILTINS: dict[str, frozenset[str]] = {
    "aiofiles": frozenset({"open"}),
    "os": frozenset({"open"}),  # os.open
    "io": frozenset({"open"}),
    "codecs": frozenset({"open"}),
    "gzip": frozenset({"open"}),
    "bz2": frozenset({"open"}),
    "lzma": frozenset({"open"}),
    "tokenize": frozenset({"open"}),
    "typing": frozenset(),
    "typing_extensions": frozenset(),
    "fastapi": frozenset(),
    "starlette": frozenset(),
    "pydantic": frozenset(),
    "pydantic_settings": frozenset(),
    "sqlalchemy": frozenset(),
    "sqlmodel": frozenset(),
    "datetime": frozenset(),
    "enum": frozenset(),
    "dataclasses": frozenset(),
    "pathlib": frozenset(),
    "uuid": frozenset(),
    "decimal": frozenset(),
    "collections": frozenset(),
}
