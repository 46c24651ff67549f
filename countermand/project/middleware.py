"""Hostile requests answered with a client error instead of a 500 and a traceback in the log.

- A body whose Content-Length is over Django's DATA_UPLOAD_MAX_MEMORY_SIZE is refused with 413 before any
  view or middleware reads it (Django itself would raise RequestDataTooBig when a form or the CSRF check
  reads the body, log its traceback and answer 400). There are no file uploads in Countermand, so the limit
  applies to every body.
- A view that still raises RequestDataTooBig (a chunked body) answers 413, RecursionError (a value nested
  thousands deep, e.g. JSON typed into a console form) answers 400.
Each is logged as one warning line. Under /api/ the answer is the API's JSON error body; the API's own
exception handler (countermand/api/errors.py) does the same for exceptions raised inside API views.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from countermand.api.errors import error_body, too_large_body

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
