"""Per-purpose secret keys derived from SECRET_KEY.

Each purpose (API-key hashing, API tokens, session tokens, ...) gets its own
key, so a value signed for one purpose can never be replayed for another.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def derive_key(purpose: str) -> bytes:
    """A 32-byte key for ``purpose``, derived from SECRET_KEY with HMAC-SHA256."""
    return hmac.new(settings.SECRET_KEY.encode(), f"liveproof:{purpose}".encode(), hashlib.sha256).digest()
