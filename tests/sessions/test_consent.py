"""The consent screen's form: accept and decline work without the page's script; declining ends the session
``cancelled`` and sends the browser to failedUrl with a signed ``reVerificationResult=Cancelled``."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from apps.sessions.models import Session
from apps.signing.canonical import query_parse
from apps.signing.services import PURPOSE_RESULT, Outcome, query_check

from .conftest import make_session

pytestmark = pytest.mark.django_db

REDIRECTS = {
    "redirectConfig": {"passedUrl": "https://shop.example/ok", "failedUrl": "https://shop.example/sorry?from=lp"},
    "resultParameterConfig": {"includeSessionId": True, "includeVerificationResult": True, "includeSignature": True},
}


def _session(integrator, **body) -> Session:
    integrator.account.allowed_redirect_origins = ["https://shop.example"]
    integrator.account.save(update_fields=["allowed_redirect_origins"])
    return make_session(integrator.account, **body)


def _consent_url(session: Session) -> str:
    page = Client().get(session.session_url.split("127.0.0.1:8000", 1)[-1])
    assert page.status_code == 200
    form = re.search(r'<form method="post" action="([^"]+)" id="consent-form"', page.content.decode())
    assert form is not None, "the consent screen is a plain form"
    assert form.group(1) == page.context["boot"]["consentUrl"]
    return form.group(1).replace("&amp;", "&")


def test_the_consent_form_needs_no_script_and_the_page_it_leads_to_starts_the_camera(integrator):
    session = _session(integrator, **REDIRECTS)
    answer = Client().post(_consent_url(session), {"choice": "accept"})
    assert answer.status_code == 303 and answer["Location"].endswith("&start=1")
    page = Client().get(answer["Location"])
    assert page.status_code == 200 and page.context["boot"]["consent"] is False
    session.refresh_from_db()
    assert session.status == Session.Status.CREATED


def test_declining_ends_the_session_cancelled_and_goes_to_the_failed_url_signed(integrator):
    session = _session(integrator, **REDIRECTS)
    page = Client().get(session.session_url.split("127.0.0.1:8000", 1)[-1])
    # The redirect after the form's POST is governed by CSP form-action: failedUrl's origin is allowed, no other.
    assert "form-action 'self' https://shop.example" in page["Content-Security-Policy"]
    answer = Client().post(_consent_url(session), {"choice": "decline"})
    assert answer.status_code == 303
    target = answer["Location"]
    assert target.startswith("https://shop.example/sorry?from=lp&")
    pairs = query_parse(urlsplit(target).query)
    assert dict(pairs)["reVerificationResult"] == "Cancelled"
    assert dict(pairs)["reVerificationSessionId"] == str(session.id)
    assert query_check(
        account=integrator.account, params=pairs, purposes=(PURPOSE_RESULT,), require_signature=True
    ) is (Outcome.VALID)
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED and session.verification_failed_reasons == ["cancelled"]
    # The API keeps its own words for it.
    result = integrator.client.get("/v1/verification/get-session-result", {"verificationSessionId": str(session.id)})
    assert result.json()["status"] == "cancelled" and result.json()["verificationFailedReasons"] == ["cancelled"]


def test_the_script_declines_through_the_same_form_and_reads_json(integrator):
    session = _session(integrator, **REDIRECTS)
    answer = Client().post(_consent_url(session), {"choice": "decline"}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 200
    body = json.loads(answer.content)
    assert body["status"] == "cancelled"
    assert (
        body["result"]["reasons"] == ["cancelled"] and "reVerificationResult=Cancelled" in body["result"]["redirectUrl"]
    )


def test_declining_without_a_failed_url_shows_a_page_that_says_so(integrator):
    session = _session(integrator)
    answer = Client().post(_consent_url(session), {"choice": "decline"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.status_code == 200
    assert "Vous n&#x27;avez pas donné votre accord" in answer.content.decode() or "Vous n'avez pas donné" in (
        answer.content.decode()
    )
    assert Client().get(session.session_url.split("127.0.0.1:8000", 1)[-1]).status_code == 410


def test_a_finished_session_is_not_cancelled_by_a_late_decline_and_a_bad_key_is_unknown(integrator):
    session = _session(integrator, **REDIRECTS)
    url = _consent_url(session)
    Session.objects.filter(id=session.id).update(status=Session.Status.COMPLETED, verification_result="Pass")
    answer = Client().post(url, {"choice": "decline"})
    assert answer.status_code == 303 and "/consent" not in answer["Location"]
    session.refresh_from_db()
    assert session.status == Session.Status.COMPLETED
    assert Client().post(f"/s/{session.id}/consent?k=wrong", {"choice": "decline"}).status_code == 404
    assert Client().get(url).status_code == 405


def test_a_decline_past_the_time_to_live_ends_the_session_expired_not_cancelled(integrator):
    """Before the expiry sweep runs, a decline (or any cancel) of a session past its time to live ends it
    ``expired``, as the page itself would at that moment (410): it ended ``cancelled``, with that webhook."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.webhooks.models import WebhookEvent

    session = _session(integrator, webhookConfig={"eventCallbackUrl": "https://hooks.example.com/lp"}, **REDIRECTS)
    url = _consent_url(session)
    Session.objects.filter(id=session.id).update(expires_at=timezone.now() - timedelta(seconds=30))
    answer = Client().post(url, {"choice": "decline"}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 200
    assert json.loads(answer.content)["status"] == "expired"
    session.refresh_from_db()
    assert session.status == Session.Status.EXPIRED and session.verification_failed_reasons == ["sessionExpired"]
    events = WebhookEvent.objects.filter(session_id=session.id).values_list("type", flat=True)
    assert list(events) == ["verification.session.expired"]


def _consent_url_in(session: Session, locale: str) -> str:
    """The consent form's action on the page opened with ``?locale=``."""
    page = Client().get(session.session_url.split("127.0.0.1:8000", 1)[-1] + f"&locale={locale}")
    assert page.status_code == 200 and page["Content-Language"] == locale
    form = re.search(r'<form method="post" action="([^"]+)" id="consent-form"', page.content.decode())
    assert form is not None
    return form.group(1).replace("&amp;", "&")


def test_the_language_the_page_was_opened_in_stays_through_the_form_and_its_redirects(integrator):
    """A tap before the script runs (or without it) posts the form: the page it leads to, and the declined page,
    speak the language of the page the person read (``?locale=``), not the browser's."""
    session = _session(integrator)
    answer = Client(HTTP_ACCEPT_LANGUAGE="en").post(_consent_url_in(session, "de"), {"choice": "accept"})
    assert answer.status_code == 303 and "locale=de" in answer["Location"] and "start=1" in answer["Location"]
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(answer["Location"])
    assert page["Content-Language"] == "de" and page.context["boot"]["consent"] is False
    assert "Kamerazugriff erlauben" in page.content.decode()  # the camera screen's heading, in German
    declined = Client(HTTP_ACCEPT_LANGUAGE="en").post(_consent_url_in(session, "de"), {"choice": "decline"})
    assert declined.status_code == 200 and declined["Content-Language"] == "de"
    assert "daher wurde nichts aufgezeichnet" in declined.content.decode()
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED
