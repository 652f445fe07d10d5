"""The rule registry: one module per rule, listed here once."""

from __future__ import annotations

from fastapi_lint.rule import Rule
from fastapi_lint.rules.blocking_call_in_async_function import BlockingCallInAsyncFunction
from fastapi_lint.rules.cors_wildcard_origin import CorsWildcardOrigin
from fastapi_lint.rules.missing_response_model import MissingResponseModel
from fastapi_lint.rules.missing_status_code import MissingStatusCode
from fastapi_lint.rules.undocumented_route import UndocumentedRoute

ALL_RULES: tuple[type[Rule], ...] = (
    MissingResponseModel,
    MissingStatusCode,
    BlockingCallInAsyncFunction,
    CorsWildcardOrigin,
    UndocumentedRoute,
)
RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}
