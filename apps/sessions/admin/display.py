"""Readable HTML for the session console: JSON values as definition lists, scores as bars, reasons and outcomes.

Operators read these; nothing here decides anything. Every value is escaped
(``format_html``); the structure is walked generically, so new config blocks
or score components show up without a change here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|_")


def label(key: str) -> str:
    """``eventCallbackUrl`` / ``eye_open`` -> ``event callback url`` / ``eye open``."""
    return _WORD_BREAK.sub(" ", str(key)).lower().strip()


def _scalar(value: Any) -> SafeString:
    if value is None:
        return format_html('<span class="quiet">{}</span>', "—")
    if isinstance(value, bool):
        return format_html("{}", "yes" if value else "no")
    return format_html("{}", value)


def json_html(value: Any) -> SafeString:
    """A JSON value as nested definition lists (objects) and lists (arrays)."""
    if isinstance(value, Mapping):
        if not value:
            return format_html('<span class="quiet">{}</span>', "none")
        rows = format_html_join("", "<dt>{}</dt><dd>{}</dd>", ((label(k), json_html(v)) for k, v in value.items()))
        return format_html('<dl class="lp-json">{}</dl>', rows)
    if isinstance(value, list | tuple):
        if not value:
            return format_html('<span class="quiet">{}</span>', "none")
        return format_html(
            '<ul class="lp-json">{}</ul>', format_html_join("", "<li>{}</li>", ((json_html(v),) for v in value))
        )
    return _scalar(value)


def scores_html(scores: Mapping[str, Any]) -> SafeString:
    """Component scores (0..1) as a table with a bar each; other values as they are."""
    if not scores:
        return format_html('<span class="quiet">{}</span>', "none (not computed, or cleared by retention)")
    rows = []
    for name, value in sorted(scores.items()):
        if isinstance(value, int | float) and 0 <= float(value) <= 1:
            bar = format_html('<meter min="0" max="1" value="{}">{}</meter>', f"{float(value):.3f}", f"{value:.2f}")
            rows.append((label(name), f"{float(value):.2f}", bar))
        else:
            rows.append((label(name), str(value), mark_safe("")))
    body = format_html_join("", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>", rows)
    return format_html('<table class="lp-scores"><tbody>{}</tbody></table>', body)


def outcomes_html(outcomes: Mapping[str, Any]) -> SafeString:
    """Challenge outcomes as ``blink ✓  nod ✗``."""
    if not outcomes:
        return format_html('<span class="quiet">{}</span>', "none")
    return format_html_join(
        " ",
        '<span class="lp-{}">{} {}</span>',
        (("ok" if ok else "no", label(n), "✓" if ok else "✗") for n, ok in outcomes.items()),
    )


def reasons_text(reasons: Iterable[str] | None) -> str:
    return ", ".join(str(r) for r in reasons or []) or "—"
