"""The API's JSON parser: DRF's, with JSON nested too deep for Python's parser answered as 400 PARSE_ERROR.

`json.loads` recurses once per nesting level; a 10 KB body of `[[[[…` exhausts the interpreter's stack and
raises RecursionError, which DRF's parser does not catch (it catches ValueError only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the document is nested too deeply.") from None
