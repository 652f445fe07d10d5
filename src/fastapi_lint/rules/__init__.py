"""The rule registry: one module per rule, listed here once."""

from __future__ import annotations

from fastapi_lint.rule import Rule
from fastapi_lint.rules.asynchronous.async_session_not_awaited import AsyncSessionNotAwaited
from fastapi_lint.rules.asynchronous.blocking_call_in_async_function import (
    BlockingCallInAsyncFunction,
)
from fastapi_lint.rules.asynchronous.blocking_call_via_helper import BlockingCallViaHelper
from fastapi_lint.rules.asynchronous.coroutine_not_awaited import CoroutineNotAwaited
from fastapi_lint.rules.asynchronous.cpu_bound_call_in_async_function import (
    CpuBoundCallInAsyncFunction,
)
from fastapi_lint.rules.asynchronous.sync_session_in_async_function import (
    SyncSessionInAsyncFunction,
)
from fastapi_lint.rules.core.unused_noqa import UnusedNoqa
from fastapi_lint.rules.dependencies.depends_called import DependsCalled
from fastapi_lint.rules.dependencies.deprecated_on_event import DeprecatedOnEvent
from fastapi_lint.rules.dependencies.on_event_ignored_with_lifespan import (
    OnEventIgnoredWithLifespan,
)
from fastapi_lint.rules.dependencies.yield_dependency_without_cleanup import (
    YieldDependencyWithoutCleanup,
)
from fastapi_lint.rules.docs.undeclared_error_response import UndeclaredErrorResponse
from fastapi_lint.rules.docs.undocumented_route import UndocumentedRoute
from fastapi_lint.rules.observability.print_in_route import PrintInRoute
from fastapi_lint.rules.pydantic.pydantic_v1_config_class import PydanticV1ConfigClass
from fastapi_lint.rules.pydantic.pydantic_v1_field_argument import PydanticV1FieldArgument
from fastapi_lint.rules.pydantic.pydantic_v1_import import PydanticV1Import
from fastapi_lint.rules.pydantic.pydantic_v1_method import PydanticV1Method
from fastapi_lint.rules.pydantic.pydantic_v1_validator import PydanticV1Validator
from fastapi_lint.rules.routes.body_on_get import BodyOnGet
from fastapi_lint.rules.routes.duplicate_operation_id import DuplicateOperationId
from fastapi_lint.rules.routes.duplicate_route import DuplicateRoute
from fastapi_lint.rules.routes.http_exception_non_error_status import HttpExceptionNonErrorStatus
from fastapi_lint.rules.routes.http_exception_returned import HttpExceptionReturned
from fastapi_lint.rules.routes.list_param_becomes_body import ListParamBecomesBody
from fastapi_lint.rules.routes.missing_response_model import MissingResponseModel
from fastapi_lint.rules.routes.missing_status_code import MissingStatusCode
from fastapi_lint.rules.routes.no_content_with_body import NoContentWithBody
from fastapi_lint.rules.routes.path_parameter_mismatch import PathParameterMismatch
from fastapi_lint.rules.routes.route_shadowed import RouteShadowed
from fastapi_lint.rules.routes.router_never_included import RouterNeverIncluded
from fastapi_lint.rules.security.cors_wildcard_origin import CorsWildcardOrigin
from fastapi_lint.rules.security.debug_enabled import DebugEnabled
from fastapi_lint.rules.security.exception_detail_leaks_internals import (
    ExceptionDetailLeaksInternals,
)
from fastapi_lint.rules.security.hardcoded_secret import HardcodedSecret
from fastapi_lint.rules.security.jwt_without_verification import JwtWithoutVerification
from fastapi_lint.rules.security.request_session_in_background_task import (
    RequestSessionInBackgroundTask,
)
from fastapi_lint.rules.security.response_model_exposes_secret import (
    ResponseModelExposesSecret,
)
from fastapi_lint.rules.security.sql_from_string import SqlFromString
from fastapi_lint.rules.security.trusted_host_wildcard import TrustedHostWildcard
from fastapi_lint.rules.security.unbounded_page_size import UnboundedPageSize
from fastapi_lint.rules.security.upload_filename_in_path import UploadFilenameInPath

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
    ResponseModelExposesSecret,
    TrustedHostWildcard,
    DebugEnabled,
    ExceptionDetailLeaksInternals,
    UnboundedPageSize,
    UploadFilenameInPath,
    RequestSessionInBackgroundTask,
    UndocumentedRoute,
    UndeclaredErrorResponse,
    PydanticV1ConfigClass,
    PydanticV1Validator,
    PydanticV1Method,
    PydanticV1FieldArgument,
    PydanticV1Import,
    DependsCalled,
    YieldDependencyWithoutCleanup,
    OnEventIgnoredWithLifespan,
    DeprecatedOnEvent,
    PrintInRoute,
)
RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}
