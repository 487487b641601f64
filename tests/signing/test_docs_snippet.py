"""The stand-alone validator in docs/signing.md is the code the docs show, and it agrees with the service."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.sessions.result_redirect import result_redirect_url
from apps.signing.canonical import QueryStringError, query_encode, signature_compute

from .helpers import NOW, locally_signed, secret_of
from .test_result_redirect import finished_session

ROOT = Path(__file__).resolve().parents[2]
SECRET = "lp_ss_" + "cd" * 32


def _snippet() -> str:
    """The first Python block in docs/signing.md defining check_signed_query."""
    for block in re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "signing.md").read_text(), flags=re.DOTALL):
        if "def check_signed_query(" in block:
            return block
    raise AssertionError("no check_signed_query snippet in docs/signing.md")


@pytest.fixture(scope="module")
def check_signed_query():
    namespace: dict = {}
    exec(compile(_snippet(), "docs/signing.md snippet", "exec"), namespace)
    return namespace["check_signed_query"]


def service_outcome(query: str, purpose: str = "link") -> str:
    """What the service's canonical rules say (without the database nonce check)."""
    from apps.signing.canonical import query_parse, signature_matches

    try:
        params = query_parse(query)
    except QueryStringError:
        return "error"
    return "Valid" if signature_matches(secrets=[SECRET], purposes=[purpose], params=params) else "InvalidSignature"


def snippet_outcome(check, query: str, purpose: str = "link") -> str:
    try:
        result = check(query, SECRET, purpose)
    except ValueError:
        return "error"
    return "Valid" if result == "Valid" else "InvalidSignature"


@pytest.mark.django_db
def test_the_snippet_accepts_a_real_result_redirect_and_spots_tampering(check_signed_query, integrator, frozen):
    session = finished_session(integrator, passed=False)
    query = urlsplit(result_redirect_url(session=session)).query
    secret = secret_of(integrator)
    assert check_signed_query(query, secret) == "Valid"
    assert check_signed_query(query.replace("=failed", "=passed"), secret) == "InvalidSignature"
    assert check_signed_query(query, "lp_ss_" + "0" * 64) == "InvalidSignature"
    frozen.shift(3601)
    assert check_signed_query(query, secret) == "Expired"


@pytest.mark.django_db
def test_the_snippet_checks_a_link_from_create_signature(check_signed_query, integrator, frozen):
    body = {"queryString": "?name=J%C3%B6rg+M&x=a%2Bb", "securitySettings": {"enableNonce": True}}
    signed = integrator.client.post("/v1/signature/create", body, format="json").json()["signedQueryString"]
    assert check_signed_query(signed, secret_of(integrator), "link") == "Valid"
    assert check_signed_query(signed, secret_of(integrator), "result") == "InvalidSignature"


def test_the_snippet_names_the_same_failures_as_the_service(check_signed_query, frozen):
    future = str(int(NOW.timestamp()) + 60)
    cases = [
        ("InvalidExpiration", [("a", "1"), ("reExpiration", "soon")]),
        # After 9999-12-31, which the service refuses (a datetime cannot hold it); the snippet said Valid.
        ("InvalidExpiration", [("a", "1"), ("reExpiration", "300000000000")]),
        ("InvalidNonce", [("a", "1"), ("reNonce", "0" * 32)]),
    ]
    for outcome, params in cases:
        assert check_signed_query(locally_signed(SECRET, params), SECRET, "link") == outcome
    assert check_signed_query(locally_signed(SECRET, [("reExpiration", future)]), SECRET, "link") == "Valid"
    for ambiguous in ("a=1&a=2", "a=%zz", "a=%FF", "=1", "reSignature=x&a=1"):
        with pytest.raises(ValueError):
            check_signed_query(ambiguous, SECRET, "link")


texts = st.text(st.characters(codec="utf-8"), max_size=10)


# reNonce / reExpiration are left out: with arbitrary values they are (rightly) not "Valid" even when signed.
RESERVED = {"reSignature", "reNonce", "reExpiration"}


@settings(max_examples=120, deadline=None)
@given(params=st.dictionaries(texts.filter(lambda n: n and n not in RESERVED), texts, max_size=5), data=st.data())
def test_the_snippet_and_the_service_agree_on_every_string_and_every_one_character_change(
    check_signed_query, params, data
):
    items = list(params.items())
    signature = signature_compute(secret=SECRET, purpose="link", params=items)
    signed = f"{query_encode(items)}&reSignature={signature}"
    assert snippet_outcome(check_signed_query, signed) == service_outcome(signed) == "Valid"
    index = data.draw(st.integers(0, len(signed) - 1))
    mutated = signed[:index] + data.draw(st.sampled_from("a%&=+~ö0F")) + signed[index + 1 :]
    assert snippet_outcome(check_signed_query, mutated) == service_outcome(mutated)
