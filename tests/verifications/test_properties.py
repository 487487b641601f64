"""Whatever JSON lands in any field, validation answers a 400 naming that field, or accepts it; never a crash."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.core.errors import ApplicationError
from apps.verifications.services import verification_input_parse

from .conftest import seed_body

SEED = seed_body("create_request")


def leaf_paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(node, dict):
        return [path for key, value in node.items() for path in leaf_paths(value, (*prefix, key))] + [prefix]
    return [prefix]


PATHS = [path for path in leaf_paths(SEED) if path]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


def replaced(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body = seed_body("create_request")
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return body


@settings(max_examples=40, deadline=None)
@given(path=st.sampled_from(PATHS), value=json_values)
def test_any_json_in_any_field_is_accepted_or_refused_by_name(path, value):
    body = replaced(path, value)
    dotted = ".".join(path)
    try:
        parsed = verification_input_parse(name=body["name"], verification_config=body["verificationConfig"])
    except ApplicationError as exc:
        assert exc.status == 400
        assert exc.fields
        # Every complaint is about the changed field, something inside it, or its own block's rule.
        parent = ".".join(path[:-1])
        for field in exc.fields:
            assert field.startswith(dotted) or field.startswith(parent), (field, dotted)
    else:
        assert parsed.submitted_config == body["verificationConfig"]
        assert parsed.name == body["name"]
