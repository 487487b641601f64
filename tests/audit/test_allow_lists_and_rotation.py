"""Per-key IP allow-lists (403 in the error shape) and scheduled rotation of signing and webhook secrets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.services import api_key_create
from apps.audit.models import AuditEvent
from apps.signing.models import SigningSecret
from apps.signing.services import signature_create, signature_validate, signing_secrets_rotate_due
from apps.webhooks.models import WebhookSecret
from apps.webhooks.signing_secrets import (
    webhook_secret_get_or_create,
    webhook_secrets_for_signing,
    webhook_secrets_rotate_due,
)

pytestmark = pytest.mark.django_db
URL = "/v1/api-key/allowed-networks"


def test_a_key_outside_its_allow_list_gets_403_in_the_error_shape(integrator):
    client = integrator.client
    assert client.get(URL).json() == {"allowedNetworks": []}
    response = client.put(URL, {"allowedNetworks": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]}, format="json")
    assert response.json() == {"allowedNetworks": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"]}
    refused = client.get("/v1/verification/get-all")  # the test client comes from 127.0.0.1
    assert refused.status_code == 403
    assert refused.json() == {
        "error": {"code": "forbidden", "message": "This API key may not be used from this address.", "fields": {}}
    }
    assert AuditEvent.objects.filter(type="apiKey.addressRefused", address="127.0.0.1").exists()
    # Another key of the account is not limited by this key's list.
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"ApiKey {api_key_create(account=integrator.account).plaintext}")
    assert other.get("/v1/verification/get-all").status_code == 200


def test_inside_the_list_the_key_works(integrator):
    client = integrator.client
    client.put(URL, {"allowedNetworks": ["127.0.0.0/8"]}, format="json")
    assert client.get("/v1/verification/get-all").status_code == 200
    assert client.put(URL, {"allowedNetworks": []}, format="json").json() == {"allowedNetworks": []}


@pytest.mark.parametrize(
    "body",
    [{"allowedNetworks": ["10.0.0.0/33"]}, {"allowedNetworks": ["example.com"]}, {"allowedNetworks": "10/8"}, {}],
)
def test_a_bad_allow_list_is_400(integrator, body):
    response = integrator.client.put(URL, body, format="json")
    assert response.status_code == 400
    assert [field.split(".")[0] for field in response.json()["error"]["fields"]] == ["allowedNetworks"]


def test_the_signing_secret_rotates_on_schedule_and_the_old_one_validates_during_the_overlap(integrator, settings):
    account = integrator.account
    signed = signature_create(account=account, query_string="userId=42").signed_query_string
    assert signing_secrets_rotate_due() == 0  # off by default
    settings.SIGNING_SECRET_ROTATION_DAYS = 1
    assert signing_secrets_rotate_due() == 0  # the secret is new
    SigningSecret.objects.filter(account=account).update(created_at=timezone.now() - timedelta(days=2))
    assert signing_secrets_rotate_due() == 1
    assert signing_secrets_rotate_due() == 0  # idempotent
    assert SigningSecret.objects.filter(account=account, retired_at__isnull=True).count() == 1
    assert signature_validate(account=account, query_string=signed) == "Valid"  # overlap
    settings.SIGNING_SECRET_OVERLAP_SECONDS = 0
    assert signature_validate(account=account, query_string=signed) == "InvalidSignature"
    assert AuditEvent.objects.filter(account_id=account.pk, type="signingSecret.rotated", actor="system").exists()


def test_the_webhook_secret_rotates_on_schedule_and_both_sign_during_the_overlap(integrator, settings):
    account = integrator.account
    first = webhook_secret_get_or_create(account=account).secret
    settings.WEBHOOK_SECRET_ROTATION_DAYS = 1
    assert webhook_secrets_rotate_due() == 0
    WebhookSecret.objects.filter(account=account).update(created_at=timezone.now() - timedelta(days=2))
    assert webhook_secrets_rotate_due() == 1
    assert webhook_secrets_rotate_due() == 0
    secret = WebhookSecret.objects.get(account=account)
    assert webhook_secrets_for_signing(secret=secret) == [secret.secret, first]


@pytest.mark.parametrize(
    ("networks", "client", "status"),
    [
        (["2001:db8:1:2::abcd"], "2001:db8:1:2::abcd", 200),  # one host: that host is admitted ...
        (["2001:db8:1:2::abcd"], "2001:db8:1:2::beef", 403),  # ... and no other host of its /64
        (["2001:db8:1:2::/120"], "2001:db8:1:2:ffff::1", 403),  # outside the /120, inside the same /64
        (["2001:db8:1:2::/120"], "2001:db8:1:2::1", 200),
    ],
)
def test_an_ipv6_allow_list_is_checked_against_the_clients_own_address(integrator, networks, client, status):
    """Rate limits count an IPv6 client by its /64; the allow-list and the audit trail must not."""
    integrator.client.put(URL, {"allowedNetworks": networks}, format="json")
    response = integrator.client.get("/v1/verification/get-all", REMOTE_ADDR=client)
    assert response.status_code == status, response.content
    kind = "apiKey.usedFromNewAddress" if status == 200 else "apiKey.addressRefused"
    assert AuditEvent.objects.filter(type=kind, address=client).exists()
