"""The API's JSON parser: DRF's, with deep nesting answered as a 400.

Python's json module recurses once per nested array or object, so a body such as
`[[[[...]]]]` a thousand levels deep raises RecursionError, which is not the
ValueError DRF turns into "JSON parse error" and so became a 500. Set once in
REST_FRAMEWORK's DEFAULT_PARSER_CLASSES, it covers every view that reads JSON.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
