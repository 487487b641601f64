"""The operator console in the Django admin: every attempt kept and shown, filters, search, timeline, dashboard."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.sessions.console_selectors import attempt_rates_per_day
from apps.sessions.models import AttemptThumbnail, Session, SessionAttempt
from apps.webhooks.event_types import EventType
from apps.webhooks.services import webhook_event_record
from tests.query_plans import sql_plan, statements_on

from .conftest import make_session

pytestmark = pytest.mark.django_db

TIMELINE = {
    "series": {"t": [0.0, 0.1, 0.2, 0.3], "yaw_ratio": [0.0, 0.1, 0.3, 0.0], "eye_open": [0.3, 0.1, 0.3, 0.3]},
    "parallax": {"t": [0.1, 0.2], "similarity": [0.02, 0.07], "homography": [0.01, 0.09]},
    "parallaxThreshold": 0.065,
    "outcomes": [{"name": "blink", "passed": True, "t": 0.25}],
    "frames": [[0.0, 1, ["ok"], None], [0.1, 1, ["moreLight"], "blink"], [0.2, 1, ["ok"], "blink"]],
}


def _finished(account, *, reasons: list[str], result: str, **fields) -> Session:
    session = make_session(account, **fields)
    Session.objects.filter(id=session.id).update(
        status="completed", verdict="fail" if reasons else "pass", verification_result=result,
        verification_failed_reasons=reasons, engine="dlib",
    )  # fmt: skip
    return Session.objects.get(id=session.id)


def _attempt(session: Session, number: int, outcome: str, reasons: list[str], **fields) -> SessionAttempt:
    now = timezone.now()
    defaults = {"started_at": now - timedelta(seconds=5), "ended_at": now, "timeline": TIMELINE, "frames": 3}
    return SessionAttempt.objects.create(
        session=session, number=number, outcome=outcome, reasons=reasons, **{**defaults, **fields}
    )


def test_the_list_filters_by_reason_and_finds_sessions_by_id_external_id_and_face_id(integrator, admin_client):
    attack = _finished(integrator.account, reasons=["presentationAttack"], result="Fail", externalId="corr-7")
    nod = _finished(integrator.account, reasons=["challengeFailed:nod", "lowQuality"], result="Fail")
    passed = _finished(integrator.account, reasons=[], result="Pass")
    Session.objects.filter(id=passed.id).update(face_id="ab" * 16)
    listing = admin_client.get("/admin/capture/session/").content.decode()
    assert "challengeFailed:nod, lowQuality" in listing  # the reason column
    assert 'href="?reason=presentationAttack"' in listing  # the reason filter offers what is in use

    def found(**query) -> set[str]:
        page = admin_client.get("/admin/capture/session/", query).content.decode()
        return {sid for sid in map(str, (attack.id, nod.id, passed.id)) if sid in page}

    assert found(reason="presentationAttack") == {str(attack.id)}
    assert found(reason="lowQuality") == {str(nod.id)}
    assert found(reason="challengeFailed") == set()  # a whole reason, not a part of one
    assert found(verdict="pass") == {str(passed.id)}
    assert found(q="corr-7") == {str(attack.id)}
    assert found(q="ab" * 16) == {str(passed.id)}
    assert found(q=str(nod.id)) == {str(nod.id)}
    assert found(q=nod.id.hex) == {str(nod.id)}
    assert found(engine="dlib", status="completed") == {str(attack.id), str(nod.id), str(passed.id)}


def test_a_session_page_shows_every_attempt_readably_and_links_its_webhook_deliveries(integrator, admin_client):
    session = _finished(
        integrator.account, reasons=[], result="Pass", webhookConfig={"eventCallbackUrl": "https://hooks.example.com/a"}
    )
    Session.objects.filter(id=session.id).update(
        scores={"liveness": 0.91, "planar": 0.8}, challenge_outcomes={"blink": True}
    )
    _attempt(session, 1, "retry", ["insufficientMotion"], scores={"liveness": 0.5})
    second = _attempt(session, 2, "pass", [], scores={"liveness": 0.91}, challenge_outcomes={"blink": True})
    AttemptThumbnail.objects.create(attempt=second, t=1.5, kind="best", jpeg=b"\xff\xd8\xff\xe0jpeg")
    payload = {"verificationSessionId": str(session.id)}
    url = session.typed_config.webhook.event_callback_url
    webhook_event_record(account=session.account, event_type=EventType.SESSION_COMPLETED, payload=payload, url=url)
    page = admin_client.get(f"/admin/capture/session/{session.id}/change/").content.decode()
    assert "#1: retry" in page and "insufficientMotion" in page and "#2: pass" in page
    assert '<meter min="0" max="1" value="0.910">' in page  # scores as bars, not JSON
    assert "<dt>verifier configs</dt>" in page and "<dt>challenge type</dt>" in page  # the config as a list
    assert '{"' not in page.split('id="content-main"')[1]  # no raw JSON anywhere on the page
    timeline = f"/admin/capture/session/{session.id}/attempts/2/timeline.svg"
    assert f'src="{timeline}"' in page
    deliveries = re.search(r'<a href="([^"]+)" id="webhook-deliveries">1 \(1 (\w+)\)</a>', page)
    assert deliveries, page
    listed = admin_client.get(deliveries.group(1).replace("&amp;", "&")).content.decode()
    assert "hooks.example.com/a" in listed
    thumb = re.search(r'<img src="(/admin/capture/session/thumbnails/\d+\.jpg)"', page)
    assert thumb, page
    served = admin_client.get(thumb.group(1))
    assert served["Content-Type"] == "image/jpeg" and served.content == b"\xff\xd8\xff\xe0jpeg"


def test_the_timeline_and_thumbnails_are_for_staff_only(integrator, client, admin_client):
    session = _finished(integrator.account, reasons=[], result="Pass")
    attempt = _attempt(session, 1, "pass", [])
    thumb = AttemptThumbnail.objects.create(attempt=attempt, t=1.0, kind="key", jpeg=b"\xff\xd8")
    for url in (
        f"/admin/capture/session/{session.id}/attempts/1/timeline.svg",
        f"/admin/capture/session/thumbnails/{thumb.pk}.jpg",
        "/admin/capture/session/dashboard/",
    ):
        assert client.get(url).status_code == 302  # to the admin login
    assert admin_client.get(f"/admin/capture/session/{session.id}/attempts/9/timeline.svg").status_code == 404


def test_the_dashboard_shows_outcome_rates_per_day_and_the_top_reasons(integrator, admin_client):
    today = _finished(integrator.account, reasons=["presentationAttack"], result="Fail")
    other = _finished(integrator.account, reasons=[], result="Pass")
    _attempt(today, 1, "retry", ["insufficientMotion"])
    _attempt(today, 2, "fail", ["presentationAttack"])
    _attempt(other, 1, "pass", [])
    yesterday = timezone.now() - timedelta(days=1)
    _attempt(other, 2, "fail", ["presentationAttack"], ended_at=yesterday, started_at=yesterday)
    page = admin_client.get("/admin/capture/session/dashboard/").content.decode()
    day = timezone.now().date().isoformat()
    row = re.search(rf'<th scope="row">{day}</th><td>3</td>(.*?)</tr>', page, re.S)
    assert row, page
    cells = re.findall(r"<td>(.*?)</td>", row.group(1))
    # pass, fail, retry, cancelled, expired, abandoned: one of three each for the first three
    assert [re.sub(r"<[^>]+>", "", c).split()[0] for c in cells] == ["1", "1", "1", "0", "0", "0"]
    assert "(33 %)" in row.group(1)
    reasons = re.findall(r"<td><code>(.*?)</code></td><td>(\d+)</td>", page)
    assert reasons[:2] == [("presentationAttack", "2"), ("insufficientMotion", "1")]
    # each reason leads to the sessions with such an attempt: a retried attempt's reason is not the final one
    links = dict(re.findall(r'<td><code>(.*?)</code></td><td>\d+</td>\s*<td><a href="(.*?)">', page))
    for reason, listed in (("insufficientMotion", {today.id}), ("presentationAttack", {today.id, other.id})):
        listing = admin_client.get(links[reason].replace("&amp;", "&")).content.decode()
        assert {s.id for s in (today, other) if str(s.id) in listing} == listed, reason
    assert admin_client.get("/admin/capture/session/dashboard/", {"days": "x"}).status_code == 200


def test_the_dashboards_rates_read_the_days_attempts_through_the_ended_at_index():
    """The ``ended_at__date`` lookup cast the column: every attempt was read, the ended_at index unused, and
    the model's ordering joined every session."""
    with CaptureQueriesContext(connection) as queries:
        attempt_rates_per_day(days=14)

    (rates,) = statements_on(queries.captured_queries, "capture_sessionattempt", "SELECT")
    plan = sql_plan(rates)
    assert "capture_sessionattempt_ended_at" in plan and "Seq Scan" not in plan, plan
    assert "capture_session " not in plan, plan  # nor does it join (and so read) every session


def test_the_dashboards_first_day_starts_at_midnight_in_the_current_time_zone(integrator):
    session = make_session(integrator.account)
    new_york = ZoneInfo("America/New_York")
    first = datetime(2026, 3, 4, tzinfo=new_york)  # the first of 7 days to the 10th
    _attempt(session, 1, "pass", [], ended_at=first, started_at=first)
    before = first - timedelta(minutes=1)
    _attempt(session, 2, "fail", [], ended_at=before, started_at=before)

    with timezone.override(new_york):
        rates = attempt_rates_per_day(days=7, now=datetime(2026, 3, 10, 12, tzinfo=new_york))

    assert [(day.day, day.attempts) for day in rates[:2]] == [(date(2026, 3, 4), 1), (date(2026, 3, 5), 0)]
    assert len(rates) == 7
