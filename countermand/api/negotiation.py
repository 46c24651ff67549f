"""The API's content negotiation: DRF's, plus two checks that must come before authentication.

DRF negotiates the content type first in `APIView.initial()` — before it authenticates and checks
permissions — so this is where an API request is refused for what it is rather than for who sends it:

- a method the endpoint does not have (`TRACE`, `PUT` on a list…) is 405 `METHOD_NOT_ALLOWED` with an
  `Allow` header, for every caller (DRF would answer 401 or 403 first, and the schema promises 405);
- a body whose `Content-Type` names a charset other than UTF-8 is 400 `UNSUPPORTED_CHARSET` (Django
  silently ignores an unknown charset and decodes the body as UTF-8 anyway; JSON is UTF-8, RFC 8259).
"""

from __future__ import annotations

import codecs
from typing import Any

from django.utils.http import parse_header_parameters
from rest_framework import exceptions, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request

ACCEPTED_CHARSETS = {"utf-8", "ascii"}  # ASCII is a subset of UTF-8


class UnsupportedCharset(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "unsupported_charset"


class ApiContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request: Request, renderers: Any, format_suffix: str | None = None) -> Any:
        view = (getattr(request, "parser_context", None) or {}).get("view")
        method = (request.method or "").lower()
        if view is not None and (method not in view.http_method_names or not hasattr(view, method)):
            raise exceptions.MethodNotAllowed(request.method or "")
        return super().select_renderer(request, renderers, format_suffix)

    def select_parser(self, request: Request, parsers: Any) -> Any:
        _, params = parse_header_parameters(request.content_type or "")
        charset = params.get("charset", "").strip()
        if charset:
            try:
                name = codecs.lookup(charset).name
            except LookupError:
                name = ""
            if name not in ACCEPTED_CHARSETS:
                raise UnsupportedCharset(
                    f"Content-Type charset {charset[:40]!r} is not supported: send JSON as UTF-8 "
                    "(charset=utf-8, or no charset)."
                )
        return super().select_parser(request, parsers)
