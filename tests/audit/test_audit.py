"""The audit trail: what is recorded, by whom, from where; filters, cursor pages, exports; append-only."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import audit_events_purge, audit_record

pytestmark = pytest.mark.django_db

CONFIG = {"verifierConfigs": {"liveness": {"type": "Verification"}}}


def _types(account) -> list[str]:
    return list(AuditEvent.objects.filter(account_id=account.pk).order_by("id").values_list("type", flat=True))


def test_security_events_are_recorded_with_the_caller_and_its_address(integrator):
    client = integrator.client
    created = client.post("/v1/verification/create", {"name": "kyc", "verificationConfig": CONFIG}, format="json")
    vid = created.json()["verificationId"]
    client.put(
        "/v1/verification/update", {"verificationId": vid, "name": "kyc2", "verificationConfig": CONFIG}, format="json"
    )
    client.delete(f"/v1/verification/delete?verificationId={vid}")
    user = client.post("/v1/user/create", {"externalId": "u"}, format="json").json()["user"]["entryUserId"]
    client.delete(f"/v1/user/delete?entryUserId={user}")
    client.post("/v1/signature/rotate-secret", {}, format="json")
    client.post("/v1/webhooks/secret/rotate", {}, format="json")
    assert _types(integrator.account) == [
        "apiKey.created",
        "apiKey.usedFromNewAddress",
        "verification.created",
        "verification.updated",
        "verification.deleted",
        "user.created",
        "user.deleted",
        "signingSecret.rotated",
        "webhookSecret.rotated",
    ]
    prefix = "_".join(integrator.key.split("_")[:3])
    updated = AuditEvent.objects.get(account_id=integrator.account.pk, type="verification.updated")
    assert updated.actor == f"apiKey:{prefix}" and updated.address == "127.0.0.1"
    assert updated.subject_id == vid and updated.details == {"name": "kyc2"}
    # The new address is recorded once, not on every request.
    assert AuditEvent.objects.filter(type="apiKey.usedFromNewAddress").count() == 1


def test_an_admin_login_is_recorded():
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-not-used")
    Client().force_login(admin)
    event = AuditEvent.objects.get(type="admin.login")
    assert event.actor == "admin:root" and event.account_id is None


def test_list_filters_and_cursor_pages_without_gaps_or_repeats(integrator, other_integrator):
    for n in range(7):
        audit_record(account_id=integrator.account.pk, type="face.deleted", subject_id=f"f{n}")
    audit_record(account_id=other_integrator.account.pk, type="face.deleted", subject_id="theirs")
    client = integrator.client
    seen, cursor = [], None
    while True:
        params = {"type": "face.deleted", "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/audit/events", params)
        assert page.status_code == 200, page.content
        seen += [e["subjectId"] for e in page.json()["events"]]
        cursor = page.json()["nextCursor"]
        if cursor is None:
            break
    assert seen == [f"f{n}" for n in reversed(range(7))]  # newest first, each once, none of the other account's
    one = client.get("/v1/audit/events", {"subjectId": "f3"}).json()["events"]
    assert [e["subjectId"] for e in one] == ["f3"]
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert client.get("/v1/audit/events", {"since": future}).json()["events"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"type": "apiKey.stolen"}, "type"),
        ({"since": "yesterday"}, "since"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
    ],
)
def test_bad_filters_answer_400_naming_the_field(integrator, query, field):
    response = integrator.client.get("/v1/audit/events", query)
    assert response.status_code == 400 and field in response.json()["error"]["fields"]


def test_csv_and_json_export(integrator):
    audit_record(account_id=integrator.account.pk, type="user.deleted", subject_id="=HYPERLINK(1)")
    response = integrator.client.get("/v1/audit/events/export", {"fileFormat": "csv", "type": "user.deleted"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["eventId", "type", "occurredAt", "actor", "address", "subjectType", "subjectId", "details"]
    assert rows[1][1] == "user.deleted" and rows[1][6] == "'=HYPERLINK(1)"  # never a spreadsheet formula
    as_json = integrator.client.get("/v1/audit/events/export", {"type": "user.deleted"}).json()
    assert [e["subjectId"] for e in as_json["events"]] == ["=HYPERLINK(1)"]


def test_events_cannot_be_changed_or_deleted_through_the_app(integrator):
    event = audit_record(account_id=integrator.account.pk, type="face.deleted", subject_id="x")
    event.subject_id = "y"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(subject_id="y")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    from django.contrib import admin

    model_admin = admin.site._registry[AuditEvent]
    assert not model_admin.has_change_permission(None, event) and not model_admin.has_delete_permission(None, event)
    # Deleting the account leaves its trail.
    account_id = integrator.account.pk
    integrator.account.delete()
    assert AuditEvent.objects.filter(account_id=account_id).exists()


def test_only_the_retention_job_removes_events_past_their_window(integrator, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    old = audit_record(account_id=integrator.account.pk, type="face.deleted", subject_id="old")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET occurred_at = %s WHERE id = %s", [timezone.now() - timedelta(days=31), old.pk]
        )
    fresh = audit_record(account_id=integrator.account.pk, type="face.deleted", subject_id="fresh")
    assert audit_events_purge() == 1
    assert list(AuditEvent.objects.filter(subject_id__in=["old", "fresh"]).values_list("pk", flat=True)) == [fresh.pk]


def test_the_audit_api_needs_a_key(anonymous):
    assert anonymous.get("/v1/audit/events").status_code == 401
