"""The rule registry: one module per rule, listed here once."""

from __future__ import annotations

from fastapi_lint.rule import Rule
from fastapi_lint.rules.async_session_not_awaited import AsyncSessionNotAwaited
from fastapi_lint.rules.blocking_call_in_async_function import BlockingCallInAsyncFunction
from fastapi_lint.rules.cors_wildcard_origin import CorsWildcardOrigin
from fastapi_lint.rules.cpu_bound_call_in_async_function import CpuBoundCallInAsyncFunction
from fastapi_lint.rules.duplicate_operation_id import DuplicateOperationId
from fastapi_lint.rules.duplicate_route import DuplicateRoute
from fastapi_lint.rules.http_exception_non_error_status import HttpExceptionNonErrorStatus
from fastapi_lint.rules.http_exception_returned import HttpExceptionReturned
from fastapi_lint.rules.missing_response_model import MissingResponseModel
from fastapi_lint.rules.missing_status_code import MissingStatusCode
from fastapi_lint.rules.pydantic_v1_config_class import PydanticV1ConfigClass
from fastapi_lint.rules.route_shadowed import RouteShadowed
from fastapi_lint.rules.router_never_included import RouterNeverIncluded
from fastapi_lint.rules.sync_session_in_async_function import SyncSessionInAsyncFunction
from fastapi_lint.rules.trusted_host_wildcard import TrustedHostWildcard
from fastapi_lint.rules.undocumented_route import UndocumentedRoute
from fastapi_lint.rules.unused_noqa import UnusedNoqa

ALL_RULES: tuple[type[Rule], ...] = (
    UnusedNoqa,
    MissingResponseModel,
    MissingStatusCode,
    RouteShadowed,
    DuplicateRoute,
    HttpExceptionReturned,
    HttpExceptionNonErrorStatus,
    DuplicateOperationId,
    RouterNeverIncluded,
    BlockingCallInAsyncFunction,
    SyncSessionInAsyncFunction,
    AsyncSessionNotAwaited,
    CpuBoundCallInAsyncFunction,
    CorsWildcardOrigin,
    TrustedHostWildcard,
    UndocumentedRoute,
    PydanticV1ConfigClass,
)
RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}
