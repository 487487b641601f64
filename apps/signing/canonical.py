"""The one canonical form of a query string, and the HMAC over it.

Pure Python (no Django): the stand-alone validator in docs/signing.md implements exactly
these rules, and a test runs that snippet against this module.

Parsing (``query_parse``) follows ``application/x-www-form-urlencoded``, the
rules every browser and Django use to read a query string, but strictly:

* one leading ``?`` is ignored; the string is split on ``&``; empty pieces are skipped;
* each piece splits at its first ``=`` into name and value (no ``=``: empty value);
* ``+`` means a space, ``%XX`` is a byte, any other character stands for its UTF-8 bytes;
  a ``%`` not followed by two hex digits, or bytes that are not UTF-8, are refused;
* an empty name, a name that appears twice (after decoding) and a ``reSignature``
  that is not the last parameter are refused.

The canonical form (``query_canonical``) drops ``reSignature``, sorts the rest by
name (code point order) and writes ``name=value`` pairs joined by ``&``, with every
byte outside ``A-Z a-z 0-9 - . _ ~`` percent-encoded in upper-case hex. So parameter
order and encoding variants (``%20`` / ``+`` / a raw space, ``%2f`` / ``%2F``) never
change a signature, while any change to a decoded name or value does.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence

SIGNATURE_PARAM = "reSignature"
EXPIRATION_PARAM = "reExpiration"
NONCE_PARAM = "reNonce"

# Query strings longer than this are refused: browsers and proxies truncate URLs
# somewhere past 8 KB, and a truncated signed link would fail obscurely later.
MAX_QUERY_STRING_LENGTH = 8000

SIGNATURE_RE = re.compile(r"[0-9a-f]{64}")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_HEX = frozenset("0123456789abcdefABCDEF")

Params = list[tuple[str, str]]


class QueryStringError(ValueError):
    """A query string that has no single canonical meaning; the message is user-facing."""


def _decode_component(text: str) -> str:
    out = bytearray()
    index = 0
    while index < len(text):
        char = text[index]
        if char == "%":
            pair = text[index + 1 : index + 3]
            if len(pair) != 2 or not set(pair) <= _HEX:
                raise QueryStringError(f"'{text}' has a '%' that is not followed by two hex digits.")
            out.append(int(pair, 16))
            index += 3
            continue
        out += b" " if char == "+" else char.encode("utf-8", "surrogatepass")
        index += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise QueryStringError(f"'{text}' does not decode to UTF-8 text.") from None


def query_parse(query_string: str, *, max_length: int | None = MAX_QUERY_STRING_LENGTH) -> Params:
    """Decode ``query_string`` into ``(name, value)`` pairs in their original order.

    Raises QueryStringError for anything that could be read two ways: malformed
    escapes, non-UTF-8 bytes, empty or repeated names, or a ``reSignature`` that
    is not last (a parser that stops at the first signature and one that reads
    on would otherwise disagree about what was signed).
    """
    if max_length is not None and len(query_string) > max_length:
        raise QueryStringError(f"The query string is longer than {max_length} characters.")
    text = query_string[1:] if query_string.startswith("?") else query_string
    params: Params = []
    seen: set[str] = set()
    for piece in text.split("&"):
        if not piece:
            continue
        raw_name, _, raw_value = piece.partition("=")
        name, value = _decode_component(raw_name), _decode_component(raw_value)
        if not name:
            raise QueryStringError(f"'{piece}' has no parameter name.")
        if name in seen:
            raise QueryStringError(f"The parameter '{name}' appears more than once.")
        if SIGNATURE_PARAM in seen:
            raise QueryStringError(f"'{SIGNATURE_PARAM}' must be the last parameter.")
        seen.add(name)
        params.append((name, value))
    return params


def encode_component(text: str) -> str:
    """Percent-encode every UTF-8 byte outside RFC 3986's unreserved set, upper-case hex."""
    return "".join(chr(byte) if byte in _UNRESERVED else f"%{byte:02X}" for byte in text.encode("utf-8"))


def query_encode(params: Iterable[tuple[str, str]]) -> str:
    """``name=value&...`` in the given order, each part encoded as in the canonical form."""
    return "&".join(f"{encode_component(name)}={encode_component(value)}" for name, value in params)


def query_canonical(params: Sequence[tuple[str, str]]) -> str:
    """The canonical form: every parameter except ``reSignature``, sorted by name, strictly encoded."""
    return query_encode(sorted((name, value) for name, value in params if name != SIGNATURE_PARAM))


def purpose_key(*, secret: str, purpose: str) -> bytes:
    """The HMAC key for one purpose, so a signature made for one use is void for every other.

    ``HMAC-SHA256(key=secret, msg="liveproof-signature-v1:" + purpose)``.
    """
    return hmac.new(secret.encode("utf-8"), f"liveproof-signature-v1:{purpose}".encode(), hashlib.sha256).digest()


def signature_compute(*, secret: str, purpose: str, params: Sequence[tuple[str, str]]) -> str:
    """64 lower-case hex characters: HMAC-SHA256 of the canonical form under the purpose key."""
    key = purpose_key(secret=secret, purpose=purpose)
    return hmac.new(key, query_canonical(params).encode("utf-8"), hashlib.sha256).hexdigest()


def signature_matches(*, secrets: Sequence[str], purposes: Sequence[str], params: Sequence[tuple[str, str]]) -> bool:
    """Whether the ``reSignature`` in ``params`` was made with any of the secrets for any of the purposes.

    Every candidate is computed and compared with ``hmac.compare_digest`` (no early
    exit), so the time taken reveals neither which secret matched nor how much of a
    forged signature was right.
    """
    given = dict(params).get(SIGNATURE_PARAM, "")
    if not SIGNATURE_RE.fullmatch(given):
        return False
    matched = False
    for secret in secrets:
        for purpose in purposes:
            expected = signature_compute(secret=secret, purpose=purpose, params=params)
            matched |= hmac.compare_digest(expected.encode(), given.encode())
    return matched
