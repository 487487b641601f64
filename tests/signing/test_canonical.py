"""The canonical form: one meaning per query string, whatever the order or encoding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.signing.canonical import (
    QueryStringError,
    query_canonical,
    query_encode,
    query_parse,
    signature_compute,
    signature_matches,
)

SECRET = "lp_ss_" + "ab" * 32


def sign(query: str, purpose: str = "link") -> str:
    return signature_compute(secret=SECRET, purpose=purpose, params=query_parse(query))


def is_valid(query: str) -> bool:
    try:
        params = query_parse(query)
    except QueryStringError:
        return False
    return signature_matches(secrets=[SECRET], purposes=["link"], params=params)


def test_parameter_order_does_not_change_the_signature():
    assert sign("b=2&a=1&c=3") == sign("a=1&b=2&c=3") == sign("?c=3&a=1&b=2")


@pytest.mark.parametrize(
    "variants",
    [
        ["name=John%20Doe", "name=John+Doe", "name=John Doe"],
        ["path=%2Fhome", "path=%2fhome"],
        ["city=K%C3%B6ln", "city=Köln", "city=K%c3%b6ln"],
        ["empty=", "empty"],
        ["k%65y=v", "key=v"],
        ["a=b=c", "a=b%3Dc", "a=b%3dc"],
    ],
)
def test_encoding_variants_of_one_value_share_one_signature(variants):
    assert len({sign(variant) for variant in variants}) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("phone=+44", "phone=%2B44"),  # '+' is a space; a literal plus is %2B
        ("a=x%26b%3Dy", "a=x&b=y"),  # an encoded & or = stays inside the value
        ("a=100%25", "a=100"),
        ("a=", "a=%20"),
        ("a=1&b=", "a=1"),
        ("key=v", "Key=v"),
    ],
)
def test_values_that_differ_after_decoding_sign_differently(first, second):
    assert sign(first) != sign(second)


def test_a_value_holding_ampersands_and_equals_signs_round_trips():
    params = [("redirect", "https://x.example/?a=1&b=2"), ("eq", "=="), ("amp", "&&")]
    assert query_parse(query_encode(params)) == params


def test_the_canonical_form_is_sorted_and_strictly_encoded():
    assert query_canonical(query_parse("b=x y&a=Köln~-._&reSignature=" + "0" * 64)) == "a=K%C3%B6ln~-._&b=x%20y"


@pytest.mark.parametrize(
    ("query", "complaint"),
    [
        ("a=1&a=2", "more than once"),
        ("a=1&%61=2", "more than once"),
        ("a=1&reSignature=" + "0" * 64 + "&b=2", "must be the last"),
        ("a=%", "two hex digits"),
        ("a=%4", "two hex digits"),
        ("a=%zz", "two hex digits"),
        ("a=%FF", "UTF-8"),
        ("=value", "no parameter name"),
        ("a=" + "x" * 8000, "longer than"),
    ],
)
def test_ambiguous_query_strings_are_refused(query, complaint):
    with pytest.raises(QueryStringError, match=complaint):
        query_parse(query)


def test_empty_pieces_and_a_leading_question_mark_are_ignored():
    assert query_parse("?a=1&&b=2&") == [("a", "1"), ("b", "2")]


def test_a_signature_for_one_purpose_is_void_for_another():
    query = "userId=42"
    signed = query + "&reSignature=" + sign(query, purpose="result")
    assert not is_valid(signed)
    assert signature_matches(secrets=[SECRET], purposes=["result"], params=query_parse(signed))


def test_an_upper_case_or_short_signature_is_refused():
    signature = sign("a=1")
    assert is_valid(f"a=1&reSignature={signature}")
    assert not is_valid(f"a=1&reSignature={signature.upper()}")
    assert not is_valid(f"a=1&reSignature={signature[:-1]}")
    assert not is_valid("a=1")


names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12).filter(lambda n: n != "reSignature")
values = st.text(st.characters(codec="utf-8"), max_size=20)
param_sets = st.dictionaries(names, values, max_size=6).map(lambda d: list(d.items()))


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(params=param_sets)
def test_any_parameter_set_round_trips_and_validates(params):
    encoded = query_encode(params)
    assert query_parse(encoded) == params
    signature = signature_compute(secret=SECRET, purpose="link", params=params)
    assert is_valid(f"{encoded}&reSignature={signature}" if encoded else f"reSignature={signature}")


def _is_hex_case_flip(original: str, mutated: str, index: int) -> bool:
    """Changing the case of a hex digit inside a %XX escape spells the same byte."""
    in_escape = any(original[j] == "%" for j in (index - 1, index - 2) if j >= 0)
    return in_escape and original[index].lower() == mutated[index].lower()


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(params=param_sets, data=st.data())
def test_any_one_character_change_invalidates_a_signed_query_string(params, data):
    params = [*params, ("reExpiration", "1747852345")]
    signature = signature_compute(secret=SECRET, purpose="link", params=params)
    signed = f"{query_encode(params)}&reSignature={signature}"
    index = data.draw(st.integers(0, len(signed) - 1), label="index")
    char = data.draw(st.characters(codec="utf-8").filter(lambda c: c != signed[index]), label="char")
    mutated = signed[:index] + char + signed[index + 1 :]
    if _is_hex_case_flip(signed, mutated, index):
        assert query_parse(mutated) == query_parse(signed)
        assert is_valid(mutated)
    else:
        assert not is_valid(mutated)
