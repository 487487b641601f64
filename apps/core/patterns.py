"""Regular expressions that both the server enforces and the OpenAPI schema publishes.

One string each, used with ``re.search`` on the server and as a JSON Schema ``pattern``
(also a search), so what the schema calls valid is exactly what the server accepts.
"""

from __future__ import annotations

import re
from typing import Any

# Text the strict fields accept: no NUL (DRF refuses it) and, unless blank is allowed, one
# character that is not whitespace (str.strip() would not leave it empty). A field that allows
# blank publishes "" as a separate alternative (drf-spectacular's oneOf), so its pattern must not
# match "" too: oneOf forbids a value that matches both.
TEXT_PATTERN = r"^[^\x00]+$"
NON_BLANK_TEXT_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"
# A collectionId: no control characters and not blank; 1..COLLECTION_ID_MAX_LENGTH characters.
COLLECTION_ID_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
COLLECTION_ID_MAX_LENGTH = 128
# A faceId: 32 hexadecimal characters.
FACE_ID_PATTERN = r"^[0-9a-fA-F]{32}$"
# Where an absolute http(s) URL starts; the URL rules themselves are in the field's description.
HTTP_URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://"


def pattern_matches(pattern: str, value: str) -> bool:
    """JSON Schema's reading of ``pattern``: a search anywhere in the string."""
    return re.search(pattern, value) is not None


def collection_id_schema(**extra: Any) -> dict[str, Any]:
    """The OpenAPI schema of a collectionId (query parameter or body field)."""
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": COLLECTION_ID_MAX_LENGTH,
        "pattern": COLLECTION_ID_PATTERN,
        **extra,
    }


def face_id_schema() -> dict[str, Any]:
    return {"type": "string", "minLength": 32, "maxLength": 32, "pattern": FACE_ID_PATTERN}
