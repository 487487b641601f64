"""The hosted pages stay their opener's popup: Cross-Origin-Opener-Policy ``unsafe-none``.

An integrator's page may open the hosted page with ``window.open(sessionUrl)``
(docs/signing.md, "Embedding the hosted page"), and the final page posts
``{redirectedTo}`` to ``window.opener``. Django's SecurityMiddleware sends
``Cross-Origin-Opener-Policy: same-origin`` on every response, and a browser then
puts a page opened from another origin in a browsing context group of its own:
``window.opener`` is null. ``same-origin-allow-popups`` would not do either: it
keeps the popups a page opens, not the opener of a page opened as one. So the
hosted pages, and the redirects that lead to them, say ``unsafe-none``; every other
response (the admin) keeps the site-wide ``same-origin``.
"""

from __future__ import annotations

from django.http import HttpResponse


def opener_kept(response: HttpResponse) -> HttpResponse:
    """``response`` with the header SecurityMiddleware then leaves alone (it only sets a missing one)."""
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response
