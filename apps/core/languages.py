"""The hosted pages' language: an integrator's ``locale``, else the browser's ``Accept-Language``.

The texts themselves come from Django's gettext catalogues (``locale/``, compiled
at install). API values are BCP 47 tags (``pt-BR``); Django's language codes are
lower case (``pt-br``). The JSON API stays in English whatever the language.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

# The values ``locale`` accepts (create-session, commonSettings, a hosted link's reLocale), as documented.
LOCALES: tuple[str, ...] = ("en", "de", "fr", "es", "pt-BR", "ar")
LOCALE_HELP = (
    "The hosted page's language: en, de, fr, es, pt-BR or ar (right to left). "
    "Without it the browser's Accept-Language decides."
)


def locale_language(locale: str | None) -> str | None:
    """The Django language code of an API ``locale`` value, or None for none or an unknown one."""
    if not locale:
        return None
    code = locale.lower()
    return code if code in dict(settings.LANGUAGES) else None


def language_pick(*, request: HttpRequest, locale: str | None = None) -> str:
    """``locale`` when it names a supported language, else the best match of the request's Accept-Language."""
    return locale_language(locale) or translation.get_language_from_request(request)


@contextmanager
def language_active(*, request: HttpRequest, locale: str | None = None) -> Iterator[str]:
    """Render in the picked language for the block; yields its code."""
    language = language_pick(request=request, locale=locale)
    with translation.override(language):
        yield language


def language_headers(response: HttpResponse, *, language: str) -> HttpResponse:
    """Say which language the page is in, and that it depends on Accept-Language (for caches)."""
    response["Content-Language"] = language
    patch_vary_headers(response, ("Accept-Language",))
    return response


def locale_query(request: HttpRequest) -> str:
    """``&locale=…`` when the request asks for a supported language (``?locale=``), else ``""``: the page's forms
    and the redirects after them keep the language it was opened in."""
    requested = request.GET.get("locale", "")
    return f"&locale={requested}" if locale_language(requested) else ""
