"""The hosted pages' words: every one from the gettext catalogues, in six languages, chosen as documented."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import get_args

import pytest
from django.core.management import call_command
from django.template.base import Lexer, TokenType
from django.test import Client
from django.utils import translation

from apps.face_engine.types import CHALLENGES as ENGINE_CHALLENGES
from apps.face_engine.types import FeedbackCode
from apps.faces import services as face_services
from apps.faces.page_texts import verif_texts
from apps.sessions import verdict_rules
from apps.sessions.page_texts import CHALLENGES, FEEDBACK, REASONS, UI, page_texts
from apps.sessions.services.create import session_create
from tests.served import ROOT
from tests.signing.helpers import verification_create

LANGUAGES = ("de", "fr", "es", "pt-br", "ar")
# The pages a verified person (or someone with a broken link) sees; demo*.html play the integrator.
HOSTED_TEMPLATES = [
    ROOT / "templates" / "capture" / name
    for name in ("base.html", "session.html", "problem.html", "link_error.html", "direct.html", "handoff.html")
] + [ROOT / "templates" / "faces" / "verif.html"]
SCRIPTS = [ROOT / "static" / "capture" / "session.js", ROOT / "static" / "faces" / "verif.js"]
# Words that are the same in every language: the product's name.
NOT_WORDS = {"Liveproof", "HTTP"}
_TEXT_ATTRIBUTES = re.compile(r'\b(?:aria-label|title|alt|placeholder)="([^"\x00]*)"')


def _unmarked(template: Path) -> list[str]:
    """Text in ``template`` outside {% translate %} / {% blocktranslate %}: words a catalogue cannot hold."""
    parts, inside_block = [], False
    for token in Lexer(template.read_text(encoding="utf-8")).tokenize():
        contents = token.contents.strip()
        if token.token_type == TokenType.BLOCK:
            # blocktranslate holds words already; {% block screen %} a name for the script (body[data-screen]).
            opens = contents.startswith(("blocktranslate", "block screen"))
            inside_block = opens or (inside_block and contents not in ("endblocktranslate", "endblock"))
        # Template tags and variables (and whatever a blocktranslate holds) are no words of the page.
        parts.append(token.contents if token.token_type == TokenType.TEXT and not inside_block else "\x00")
    text = re.sub(r"<!--.*?-->|<(style|script)\b.*?</\1>", " ", "".join(parts), flags=re.S)
    found = [value for value in _TEXT_ATTRIBUTES.findall(text) if re.search(r"[A-Za-z]{2}", value)]
    text = re.sub(r"<[^>]*>", "\n", text)  # tags and their attributes (ids, classes, urls)
    for line in text.splitlines():
        words = [w for w in re.findall(r"[^\W\d_]{2,}", line) if w not in NOT_WORDS]
        if words:
            found.append(" ".join(words))
    return found


@pytest.mark.parametrize("template", HOSTED_TEMPLATES, ids=lambda path: path.name)
def test_every_text_of_a_hosted_template_is_marked_for_translation(template):
    assert _unmarked(template) == []


def test_the_check_finds_an_unmarked_text(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '{% load i18n %}<p>{% translate "Fine" %}</p><p>Not marked</p>'
        '<div aria-label="Also not"></div>{% blocktranslate %}Marked <b>too</b>{% endblocktranslate %}'
    )
    assert _unmarked(page) == ["Also not", "Not marked"]
    page.write_text('<html lang="{{ LANGUAGE_CODE }}"><title>{% block t %}Liveproof{% endblock %}</title>Plain')
    assert _unmarked(page) == ["Plain"]


def _string_literals(script: str) -> list[str]:
    script = re.sub(r"^\s*//.*$", "", script, flags=re.M)
    script = re.sub(r"/\*.*?\*/", "", script, flags=re.S)
    return [a or b or c for a, b, c in re.findall(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'|`([^`]*)`', script)]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_the_page_scripts_carry_no_words_of_their_own(script):
    # Words are two or more letters separated by a space; selectors, codes and MIME types are not words.
    source = script.read_text(encoding="utf-8")
    # What the page tells an embedding integrator (postMessage, docs/sdk.md) is for developers, in English like
    # the JSON API, and never shown: the PROBLEMS table's messages.
    source = re.sub(r"var PROBLEMS = \{.*?\};", "", source, flags=re.S)
    literals = _string_literals(source)
    sentences = [s for s in literals if re.search(r"[A-Za-z]{2,} [A-Za-z]", s) and s != "use strict"]
    assert sentences == []


def _template_msgids() -> set[str]:
    ids = set()
    for template in HOSTED_TEMPLATES:
        tokens = list(Lexer(template.read_text(encoding="utf-8")).tokenize())
        for i, token in enumerate(tokens):
            if token.token_type == TokenType.BLOCK and token.contents.startswith("translate "):
                ids.add(re.match(r'translate ["\'](.*)["\']$', token.contents).group(1))
            if token.token_type == TokenType.BLOCK and token.contents.startswith("blocktranslate"):
                ids.add(re.sub(r"\s+", " ", tokens[i + 1].contents).strip())
    return ids


def _code_msgids() -> set[str]:
    texts = [*FEEDBACK.values(), *CHALLENGES.values(), *REASONS.values(), *UI.values()]
    with translation.override("en"):
        flat = json.loads(json.dumps(verif_texts()))
    return {str(t) for t in texts} | {v for v in flat.values() if isinstance(v, str)} | set(flat["errors"].values())


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalogue_translates_every_text(language):
    from django.utils.translation import trans_real

    catalog = trans_real.translation(language)._catalog
    msgids = _template_msgids() | _code_msgids()
    assert len(msgids) > 100
    missing = sorted(m for m in msgids if not catalog.get(m))
    assert missing == []
    assert catalog.get(("%(count)s attempt left.", 0)), "the plural forms of 'attempts left'"
    po = (ROOT / "locale" / trans_real.to_locale(language) / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    assert "#, fuzzy" not in po


def test_every_code_the_service_sends_has_words():
    assert set(get_args(FeedbackCode)) <= set(FEEDBACK)
    assert {f"challengeFailed:{name}" for name in ENGINE_CHALLENGES} <= set(REASONS)
    assert set(ENGINE_CHALLENGES) == set(CHALLENGES)
    engine = {
        "noFace",
        "multipleFaces",
        "faceChanged",
        "presentationAttack",
        "insufficientMotion",
        "timeout",
        "lowQuality",
    }
    rules = {verdict_rules.ATTEMPTS_EXHAUSTED, verdict_rules.AGE_VERIFICATION_FAILED, "sessionExpired", "cancelled"}
    recognition = {
        face_services.DUPLICATE_FACE, face_services.FACE_MISMATCH, face_services.EXTERNAL_ID_REQUIRED,
        face_services.EXTERNAL_ID_UNKNOWN, face_services.FACE_REGISTERED_TO_OTHER_ID, face_services.ENGINE_MISMATCH,
    }  # fmt: skip
    assert engine | rules | recognition <= set(REASONS)
    # Every reason a service names in its code (reason="…", or a module constant of the verdict rules).
    named = set()
    for path in (ROOT / "apps").rglob("*.py"):
        named |= set(re.findall(r'\breason="([a-z][A-Za-z]+)"', path.read_text(encoding="utf-8")))
    rules_source = (ROOT / "apps" / "sessions" / "verdict_rules.py").read_text(encoding="utf-8")
    named |= set(re.findall(r'^[A-Z_]+ = "([a-z][A-Za-z]+)"', rules_source, flags=re.M))
    assert {"userNotFound", "ageDocumentRequired", "cancelled"} <= named
    assert named <= set(REASONS)
    # What the engine can say, read from its source: a reason it learns later fails here until it has words.
    source = (ROOT / "apps" / "face_engine" / "verdict.py").read_text(encoding="utf-8")
    lines = [line for line in source.splitlines() if "reasons" in line or 'return ["' in line]
    said = set(re.findall(r'(?:\[|, |append\()"([a-z][A-Za-z]+)"', "\n".join(lines)))
    assert "insufficientMotion" in said and "lowQuality" in said
    assert said <= set(REASONS)


def test_no_text_names_a_code_or_accuses():
    with translation.override("en"):
        texts = [str(t) for t in [*FEEDBACK.values(), *CHALLENGES.values(), *REASONS.values(), *UI.values()]]
    codes = set(FEEDBACK) | set(REASONS)
    for text in texts:
        # Codes are camelCase (noFace, challengeFailed:nod); "cancelled" is also just a word.
        named = [code for code in codes if re.search(r"[A-Z:]", code) and code in text]
        assert named == [] and not re.search(r"\b(spoof|fraud|fake|attack)", text, re.I), text
        assert "live person" not in text and "not you" not in text


def test_the_docs_table_is_the_catalogues():
    call_command("hosted_texts", "--check")


# --- choosing the language --------------------------------------------------------------------------


def _boot(response) -> dict:
    html = response.content.decode()
    return json.loads(re.search(r'<script id="boot" type="application/json">(.*?)</script>', html, re.S).group(1))


@pytest.mark.django_db
def test_the_browser_language_picks_the_page_language(integrator):
    session = session_create(
        account=integrator.account, body={"verifierConfigs": {"liveness": {"type": "Verification"}}}
    )
    url = session.session_url.split("://", 1)[1].split("/", 1)[1]
    german = Client().get(f"/{url}", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    assert german.status_code == 200 and german["Content-Language"] == "de"
    assert "Accept-Language" in german["Vary"]
    html = german.content.decode()
    assert '<html lang="de" dir="ltr">' in html and "Bestätigen Sie, dass Sie es sind" in html
    assert (
        _boot(german)["texts"]["feedback"]["moreLight"]
        == "Zu dunkel: Wenden Sie sich einer Lampe oder einem Fenster zu"
    )
    english = Client().get(f"/{url}", HTTP_ACCEPT_LANGUAGE="ja,zh;q=0.8")  # none of ours: English
    assert english["Content-Language"] == "en" and "Verify it's you" in english.content.decode()
    brazil = Client().get(f"/{url}", HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert brazil["Content-Language"] == "pt-br" and "Confirme que é você" in brazil.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["create-session", "config"])
def test_the_sessions_locale_wins_over_the_browser_and_arabic_is_right_to_left(integrator, where):
    body = {"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Balanced"}}}
    if where == "config":
        body["verifierConfigs"]["commonSettings"] = {"locale": "ar"}
    else:
        body["locale"] = "ar"
    response = integrator.client.post("/v1/verification/create-session", body, format="json")
    assert response.status_code == 200, response.content
    url = response.json()["sessionUrl"].split("://", 1)[1].split("/", 1)[1]
    page = Client().get(f"/{url}", HTTP_ACCEPT_LANGUAGE="de")
    html = page.content.decode()
    assert page["Content-Language"] == "ar" and '<html lang="ar" dir="rtl">' in html
    assert "أكّد أنك أنت" in html
    texts = _boot(page)["texts"]
    assert texts["challenges"]["blink"] == "ارمش بعينيك"
    assert set(texts["attemptsLeft"]) == {"0", "1", "2", "3"}


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{"locale": "de-DE"}, {"locale": "xx"}, {"locale": 5}, {"locale": "PT-br"}])
def test_create_session_refuses_a_locale_it_has_no_catalogue_for(integrator, body):
    full = {"verifierConfigs": {"liveness": {"type": "Verification"}}, **body}
    response = integrator.client.post("/v1/verification/create-session", full, format="json")
    assert response.status_code == 400 and "locale" in response.json()["error"]["fields"]
    common = {"verifierConfigs": {"liveness": {"type": "Verification"}, "commonSettings": body}}
    response = integrator.client.post("/v1/verification/create-session", common, format="json")
    assert response.status_code == 400
    assert "verifierConfigs.commonSettings.locale" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_a_hosted_links_relocale_picks_the_language_and_a_bad_one_is_refused_in_the_browsers_language(
    integrator, settings
):
    settings.HOSTED_LINK_UNSIGNED_PER_HOUR = 10_000
    verification_id = verification_create(integrator, securityConfig={"forceSignedInput": False})
    opened = Client().get(f"/v/{verification_id}?reLocale=fr")
    assert opened.status_code == 302
    page = Client().get(opened["Location"], HTTP_ACCEPT_LANGUAGE="de")
    assert page["Content-Language"] == "fr" and "Confirmez qu'il s'agit bien de vous" in page.content.decode()
    refused = Client().get(f"/v/{verification_id}?reLocale=klingon", HTTP_ACCEPT_LANGUAGE="es")
    assert refused.status_code == 400 and refused["Content-Language"] == "es"
    assert "Este enlace de verificación no se puede usar" in refused.content.decode()


@pytest.mark.django_db
def test_the_problem_pages_and_verif_follow_the_browser(integrator):
    missing = Client().get(f"/s/{uuid.uuid4()}/?k=x", HTTP_ACCEPT_LANGUAGE="es")
    assert missing.status_code == 404 and "No encontramos esta verificación" in missing.content.decode()
    verif = Client().get("/verif/", {"user_identifier": "u", "locale": "de"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert verif["Content-Language"] == "de" and "Diesem Link fehlt sein Schlüssel" in verif.content.decode()


def test_every_page_text_is_a_word_never_a_code_in_every_language():
    for language in ("en", *LANGUAGES):
        with translation.override(language):
            texts = json.loads(json.dumps(page_texts(max_attempts=3), default=str))
        for group in ("feedback", "challenges", "reasons"):
            assert all(text and text != code for code, text in texts[group].items()), (language, group)
