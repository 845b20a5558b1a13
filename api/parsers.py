"""The API's JSON parser, with a limit on nesting.

DRF's JSONParser catches ValueError only: a body of 100,000 nested brackets made Python's json
raise RecursionError, a 500 (issue 28.6). No request body of this API nests more than a few
levels, so anything deeper than MAX_JSON_DEPTH is refused as a parse error (400) before a
serializer walks it.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 32
TOO_DEEP = f"JSON parse error - the body nests deeper than {MAX_JSON_DEPTH} levels."


def json_depth(data: Any) -> int:
    """How deeply lists and objects nest in parsed JSON (a scalar is 0, [] or {} is 1), counted
    without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


class DepthLimitedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        if json_depth(data) > MAX_JSON_DEPTH:
            raise ParseError(TOO_DEEP)
        return data
