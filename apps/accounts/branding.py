"""The integrator's brand on the hosted pages: display name, logo, accent colour, privacy and support links.

An account has a brand (admin-editable); a verification config's ``brandingConfig``
overrides it field by field (docs/branding.md). The rules both obey are here:

* **Logo**: PNG, JPEG or WebP, at most ``LOGO_MAX_BYTES`` (150 KB) and
  ``LOGO_MAX_SIDE`` pixels a side, decoded with Pillow to prove it is the image it
  claims to be. SVG is refused (a script carrier; we do not sanitise it). Logos are
  stored once by content (``BrandLogo``, SHA-256) and served by us from
  ``/brand/logo/<id>``, so the page loads nothing from the integrator's servers.
* **Accent colour**: ``#rrggbb``, at least ``MIN_CONTRAST`` (4.5:1, WCAG AA for text)
  against white, which is both the page's card background and the text on a
  button filled with the accent.
* **Links**: https only.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

# 150 KB: its base64 (200 KB) fits in an API request body (API_MAX_BODY_BYTES, 256 KB) with the rest.
LOGO_MAX_BYTES = 150 * 1024
LOGO_MAX_SIDE = 2048
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
MIN_CONTRAST = 4.5
PAGE_BACKGROUND = "#ffffff"  # the hosted page's card, and the text on an accent-filled button
DISPLAY_NAME_MAX = 80
COLOR_PATTERN = r"^#[0-9a-fA-F]{6}$"
_COLOR = re.compile(COLOR_PATTERN)


class BrandingError(ValueError):
    """A brand value the rules above refuse; the message says which rule."""


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of ``#rrggbb``."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2.x contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def accent_color_check(color: str) -> str:
    """The colour, lower-case; BrandingError when it is not ``#rrggbb`` or too light against white."""
    if not _COLOR.match(color):
        raise BrandingError("Must be a colour as #rrggbb.")
    ratio = contrast_ratio(color, PAGE_BACKGROUND)
    if ratio < MIN_CONTRAST:
        raise BrandingError(
            f"Contrast {ratio:.2f}:1 against the page background {PAGE_BACKGROUND} is below WCAG AA's "
            f"{MIN_CONTRAST}:1 (text on buttons and links in this colour): choose a darker colour."
        )
    return color.lower()


def https_url_check(url: str) -> str:
    if not url.lower().startswith("https://"):
        raise BrandingError("Only https:// URLs are allowed here.")
    return url


@dataclass(frozen=True)
class LogoImage:
    sha256: str
    content_type: str
    data: bytes


def logo_check(data: bytes) -> LogoImage:
    """A logo that obeys the rules, or BrandingError saying which it breaks."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > LOGO_MAX_BYTES:
        raise BrandingError(f"The logo is {len(data)} bytes; at most {LOGO_MAX_BYTES} (150 KB) are allowed.")
    if data.lstrip()[:5].lower() in (b"<?xml", b"<svg ") or b"<svg" in data[:1024].lower():
        raise BrandingError("SVG logos are not accepted (they can carry scripts): send PNG, JPEG or WebP.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, size = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise BrandingError("The logo is not a readable PNG, JPEG or WebP image.") from exc
    if kind not in LOGO_TYPES:
        raise BrandingError(f"A {kind} logo is not accepted: send PNG, JPEG or WebP.")
    if max(size) > LOGO_MAX_SIDE:
        raise BrandingError(f"The logo is {size[0]}x{size[1]} pixels; at most {LOGO_MAX_SIDE} a side.")
    return LogoImage(hashlib.sha256(data).hexdigest(), LOGO_TYPES[kind], data)


def brand_logo_store(data: bytes) -> str:
    """Check a logo and keep it (once per content); its id, the SHA-256 that ``/brand/logo/<id>`` serves."""
    from .models import BrandLogo

    logo = logo_check(data)
    BrandLogo.objects.get_or_create(sha256=logo.sha256, defaults={"content_type": logo.content_type, "data": data})
    return logo.sha256
