"""API errors. Raise one of these anywhere below a route; the route wrapper turns it into the
error envelope ``{"data": null, "message": ..., "code": ..., "errors": [...]}``."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status = 400
    code = "BAD_REQUEST"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        data: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.errors = errors or []
        self.headers = headers or {}
        self.data = data


class BadRequest(ApiError):
    status, code = 400, "BAD_REQUEST"


class Unauthorized(ApiError):
    status, code = 401, "UNAUTHORIZED"


class Forbidden(ApiError):
    status, code = 403, "FORBIDDEN"


class NotFound(ApiError):
    status, code = 404, "NOT_FOUND"


class Conflict(ApiError):
    status, code = 409, "CONFLICT"


class Unprocessable(ApiError):
    status, code = 422, "VALIDATION_FAILED"


class TooManyRequests(ApiError):
    status, code = 429, "TOO_MANY_REQUESTS"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = retry_after


def invalid_field(model: str, loc: tuple[str | int, ...], message: Any, value: Any) -> Exception:
    """A pydantic ``ValidationError`` that names ``loc`` (relative to the model validated):
    raised from a model validator, a rule that reads several fields still answers 422 on the
    field at fault instead of on ``body``. ``message`` may be a ``tr(...)`` text; it keeps its
    wording in each language like a ``ValueError`` raised from a field validator."""
    from pydantic import ValidationError  # noqa: PLC0415 - errors.py stays import-light
    from pydantic_core import InitErrorDetails, PydanticCustomError  # noqa: PLC0415

    error = PydanticCustomError("value_error", "{error}", {"error": ValueError(message)})
    return ValidationError.from_exception_data(
        model, [InitErrorDetails(type=error, loc=loc, input=value)]
    )
