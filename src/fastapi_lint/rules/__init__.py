"""The rule registry: one module per rule, listed here once."""

from __future__ import annotations

from fastapi_lint.rule import Rule
from fastapi_lint.rules.async_session_not_awaited import AsyncSessionNotAwaited
from fastapi_lint.rules.blocking_call_in_async_function import BlockingCallInAsyncFunction
from fastapi_lint.rules.blocking_call_via_helper import BlockingCallViaHelper
from fastapi_lint.rules.body_on_get import BodyOnGet
from fastapi_lint.rules.coroutine_not_awaited import CoroutineNotAwaited
from fastapi_lint.rules.cors_wildcard_origin import CorsWildcardOrigin
from fastapi_lint.rules.cpu_bound_call_in_async_function import CpuBoundCallInAsyncFunction
from fastapi_lint.rules.debug_enabled import DebugEnabled
from fastapi_lint.rules.duplicate_operation_id import DuplicateOperationId
from fastapi_lint.rules.duplicate_route import DuplicateRoute
from fastapi_lint.rules.exception_detail_leaks_internals import ExceptionDetailLeaksInternals
from fastapi_lint.rules.hardcoded_secret import HardcodedSecret
from fastapi_lint.rules.http_exception_non_error_status import HttpExceptionNonErrorStatus
from fastapi_lint.rules.http_exception_returned import HttpExceptionReturned
from fastapi_lint.rules.jwt_without_verification import JwtWithoutVerification
from fastapi_lint.rules.list_param_becomes_body import ListParamBecomesBody
from fastapi_lint.rules.missing_response_model import MissingResponseModel
from fastapi_lint.rules.missing_status_code import MissingStatusCode
from fastapi_lint.rules.no_content_with_body import NoContentWithBody
from fastapi_lint.rules.path_parameter_mismatch import PathParameterMismatch
from fastapi_lint.rules.pydantic_v1_config_class import PydanticV1ConfigClass
from fastapi_lint.rules.pydantic_v1_field_argument import PydanticV1FieldArgument
from fastapi_lint.rules.pydantic_v1_import import PydanticV1Import
from fastapi_lint.rules.pydantic_v1_method import PydanticV1Method
from fastapi_lint.rules.pydantic_v1_validator import PydanticV1Validator
from fastapi_lint.rules.route_shadowed import RouteShadowed
from fastapi_lint.rules.router_never_included import RouterNeverIncluded
from fastapi_lint.rules.sql_from_string import SqlFromString
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
    NoContentWithBody,
    BodyOnGet,
    ListParamBecomesBody,
    PathParameterMismatch,
    DuplicateOperationId,
    RouterNeverIncluded,
    BlockingCallInAsyncFunction,
    BlockingCallViaHelper,
    SyncSessionInAsyncFunction,
    AsyncSessionNotAwaited,
    CpuBoundCallInAsyncFunction,
    CoroutineNotAwaited,
    CorsWildcardOrigin,
    JwtWithoutVerification,
    SqlFromString,
    HardcodedSecret,
    TrustedHostWildcard,
    DebugEnabled,
    ExceptionDetailLeaksInternals,
    UndocumentedRoute,
    PydanticV1ConfigClass,
    PydanticV1Validator,
    PydanticV1Method,
    PydanticV1FieldArgument,
    PydanticV1Import,
)
RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}
