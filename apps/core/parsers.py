"""JSON request bodies with bounded nesting.

Python's JSON decoder recurses once per level: a 200 KB body of brackets, well
under the size limit, raised RecursionError (a 500) on every JSON endpoint.
Anything nested deeper than ``API_MAX_JSON_DEPTH`` is refused as malformed, so
no serializer, error flattener or JSONB column ever walks such a structure.

So is a lone surrogate (``"\ud800"``) anywhere, key or value: JSON allows the escape,
but it is not text. A serializer's string fields refused it; an object's keys, a free
mapping such as ``customInputParameters`` and an error message echoing the input did
not, and a JSONB column, DRF's renderer or the CAPTCHA library then raised (500s).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _not_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def json_problem(data: Any, limit: int) -> str | None:
    """Why parsed JSON ``data`` is refused: arrays/objects nested deeper than ``limit`` (the top-level object is
    level 1), or a lone surrogate in a key or a string; None when it is fine."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:  # iterative: the point is not to recurse
        node, depth = stack.pop()
        if isinstance(node, str):
            if _not_text(node):
                return "JSON holds a lone surrogate (an escape such as \\ud800 without its pair): not valid text."
            continue
        if isinstance(node, Mapping):
            children: Any = [*node.keys(), *node.values()]
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return f"JSON nested deeper than {limit} levels."
        stack.extend((child, depth + 1) for child in children)
    return None


def json_nesting_check(data: Any) -> Any:
    """``data`` itself, or ParseError (400 ``malformed_json``) when ``json_problem`` refuses it."""
    problem = json_problem(data, int(settings.API_MAX_JSON_DEPTH))
    if problem is not None:
        raise ParseError(problem)
    return data


def json_bounded_loads(text: str | bytes) -> Any:
    """``json.loads`` for request bodies: malformed or too deeply nested JSON is a ParseError."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ParseError(f"JSON nested deeper than {int(settings.API_MAX_JSON_DEPTH)} levels.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"JSON parse error - {exc}") from None
    return json_nesting_check(data)


class BoundedJSONParser(JSONParser):
    """DRF's JSONParser (strict: no NaN), with the nesting bound of :func:`json_nesting_check`."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {int(settings.API_MAX_JSON_DEPTH)} levels.") from None
        return json_nesting_check(data)
