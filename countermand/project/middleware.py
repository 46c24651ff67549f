"""Hostile requests answered with a client error instead of a 500 and a traceback in the log.

- A body whose Content-Length is over Django's DATA_UPLOAD_MAX_MEMORY_SIZE is refused with 413 before any
  view or middleware reads it (Django itself would raise RequestDataTooBig when a form or the CSRF check
  reads the body, log its traceback and answer 400). There are no file uploads in Countermand, so the limit
  applies to every body.
- A view that still raises RequestDataTooBig (a chunked body) answers 413, RecursionError (a value nested
  thousands deep, e.g. JSON typed into a console form) answers 400.
Each is logged as one warning line. Under /api/ the answer is the API's JSON error body; the API's own
exception handler (countermand/api/errors.py) does the same for exceptions raised inside API views.

A database that cannot be reached answers 503 with Retry-After (countermand.core.outage), logged once per burst:
`DatabaseUnavailableMiddleware` for views, `server_error` (handler500) for what middleware meets.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

from countermand.api.errors import error_body, too_large_body
from countermand.core.outage import RETRY_AFTER_SECONDS, database_unavailable, database_unavailable_body, outage_log

logger = logging.getLogger(__name__)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _too_large(request: HttpRequest) -> HttpResponse:
    logger.warning("refused a request body over the upload limit: %s %s", request.method, request.path)
    if _is_api(request):
        return JsonResponse(too_large_body(), status=413)
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return HttpResponse(
        f"Request body too large: this server accepts at most {limit} bytes.\n",
        status=413,
        content_type="text/plain; charset=utf-8",
    )


def _too_deep(request: HttpRequest) -> HttpResponse:
    logger.warning("refused a request nested too deeply to parse: %s %s", request.method, request.path)
    if _is_api(request):
        return JsonResponse(error_body("PARSE_ERROR", "The request is nested too deeply to parse."), status=400)
    return HttpResponse(
        "Bad request: a value is nested too deeply to parse.\n", status=400, content_type="text/plain; charset=utf-8"
    )


class HostileRequestMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return _too_large(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RequestDataTooBig):
            return _too_large(request)
        if isinstance(exception, RecursionError):
            return _too_deep(request)
        return None


def database_unavailable_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """503 with Retry-After for a database that cannot be reached (countermand.core.outage): the API's JSON
    body under /api/, else the friendly page. Logged once per burst; Django's own per-response log line (a
    traceback for each request) is skipped."""
    outage_log(exc, f"{request.method} {request.path}")
    response: HttpResponse
    if _is_api(request):
        response = JsonResponse(database_unavailable_body(), status=503)
    else:
        page = render_to_string(
            "core/database_unavailable.html", {"path": request.path if request.method == "GET" else ""}
        )
        response = HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True  # type: ignore[attr-defined]  # django.utils.log.log_response skips it
    return response


class DatabaseUnavailableMiddleware:
    """A view that meets a database outage answers 503 (see `database_unavailable_response`), not 500. What a
    middleware meets outside the view (a session saved after it) reaches `server_error`, the handler500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if database_unavailable(exception):
            return database_unavailable_response(request, exception)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage met outside a view is a 503 too; anything else Django's plain 500 (JSON
    under /api/)."""
    exc = sys.exc_info()[1]
    if exc is not None and database_unavailable(exc):
        return database_unavailable_response(request, exc)
    if _is_api(request):
        return JsonResponse(
            error_body("INTERNAL_ERROR", "Something went wrong on our side; it has been logged."), status=500
        )
    return defaults.server_error(request)
