"""One mapping from exceptions to JSON error bodies: `{code, message, …details}` with a stable `code`.

- DomainError (services) → its `http_status` and `as_dict()` (e.g. 409 ORDER_NOT_CANCELLABLE with `blockers`).
- DRF validation errors → 400 `{code: "VALIDATION_FAILED", message, fields}`.
- Other DRF errors (401, 403, 404, 405, 415, 429…) → their status with an upper-case code.
- A body over Django's DATA_UPLOAD_MAX_MEMORY_SIZE → 413 REQUEST_TOO_LARGE; JSON nested too deep → 400 PARSE_ERROR
  (countermand/api/parsers.py); both logged as one line, without a traceback.
- A database that cannot be reached → 503 `{code: "DATABASE_UNAVAILABLE", message, retryAfter}` with
  `Retry-After`, logged once per burst (countermand/core/outage.py).
- Anything unexpected → logged, 500 `{code: "INTERNAL_ERROR"}` (no traceback leaks to clients).

Every body also carries `exceptionMessage` (= message): the original system's clients show that field.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from countermand.core.errors import DomainError
from countermand.core.outage import RETRY_AFTER_SECONDS, database_unavailable, database_unavailable_body, outage_log

logger = logging.getLogger(__name__)


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    code = serializers.CharField(help_text="Stable, machine-readable error code, e.g. ORDER_NOT_CANCELLABLE.")
    message = serializers.CharField(help_text="What went wrong, for people.")
    exceptionMessage = serializers.CharField(help_text="Same as message (the original system's field name).")
    fields = serializers.DictField(  # type: ignore[assignment]  # the metaclass takes it out of the class
        required=False, help_text="Per-field messages of a VALIDATION_FAILED error."
    )
    blockers = serializers.ListField(
        child=serializers.DictField(), required=False, help_text="Why an order cannot be cancelled: [{code, message}]."
    )
    retryAfter = serializers.IntegerField(
        required=False, help_text="Seconds to wait (LOGIN_THROTTLED, THROTTLED, DATABASE_UNAVAILABLE)."
    )


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "exceptionMessage": message, **details}


def too_large_body() -> dict[str, Any]:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_body(
        "REQUEST_TOO_LARGE", f"The request body is larger than this server accepts ({limit} bytes).", limit=limit
    )


def _first_message(detail: Any, path: str = "") -> str:
    """The first validation message, prefixed with the field it concerns (e.g. `orderLines[1].lineNumber`)."""
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        name = "" if key == "non_field_errors" else str(key)
        return _first_message(value, ".".join(p for p in (path, name) if p))
    if isinstance(detail, list):
        for index, item in enumerate(detail):
            if item:  # a nested list serializer reports {} for each valid item
                return _first_message(item, f"{path}[{index}]" if isinstance(item, dict) else path)
    return f"{path}: {detail}" if path else str(detail)


def _plain(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {("nonFieldErrors" if k == "non_field_errors" else k): _plain(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_plain(v) for v in detail]
    return str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER for the whole API."""
    if isinstance(exc, DomainError):
        body = error_body(exc.code, exc.message, **exc.details)
        retry = {"Retry-After": str(exc.details["retryAfter"])} if "retryAfter" in exc.details else None
        return Response(body, status=exc.http_status, headers=retry)
    if database_unavailable(exc):
        request = context.get("request")
        outage_log(exc, f"{request.method} {request.path}" if request is not None else str(context.get("view")))
        response = Response(
            database_unavailable_body(),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
        )
        response._has_been_logged = True  # type: ignore[attr-defined]  # one line per burst, not per request
        return response
    if isinstance(exc, RequestDataTooBig):
        logger.warning("refused a request body over the upload limit in %s", context.get("view"))
        return Response(too_large_body(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, RecursionError):
        logger.warning("refused a request nested too deeply for the parser in %s", context.get("view"))
        exc = exceptions.ParseError("The request is nested too deeply to parse.")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return Response(
            error_body("VALIDATION_FAILED", _first_message(detail), fields=_plain(detail)),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = (codes if isinstance(codes, str) else exc.default_code).upper()
        details: dict[str, Any] = {}
        headers: dict[str, str] = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
            details["retryAfter"] = int(exc.wait)  # type: ignore[attr-defined]
        return Response(error_body(code, str(exc.detail), **details), status=exc.status_code, headers=headers)
    logger.exception("unexpected error in %s", context.get("view"))
    return Response(
        error_body("INTERNAL_ERROR", "Something went wrong on our side; it has been logged."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


@csrf_exempt  # it changes nothing; a CSRF failure page would hide the 404
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown paths under /api/ answer in JSON too."""
    return JsonResponse(error_body("NOT_FOUND", f"There is no API endpoint {request.path}."), status=404)
