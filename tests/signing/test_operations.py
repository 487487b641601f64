"""Operator tools: the rotate command, the nonce purge and the admin."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from apps.signing.models import SigningSecret, UsedNonce
from apps.signing.services import nonce_consume
from apps.signing.tasks import used_nonces_purge

from .helpers import NOW, secret_of

pytestmark = pytest.mark.django_db


def test_the_rotate_command_prints_the_new_secret_the_api_then_shows(integrator):
    old = secret_of(integrator)
    out = io.StringIO()
    call_command("signing_secret_rotate", "Acme", "--revoke-previous", stdout=out)
    new = out.getvalue().strip().splitlines()[-1]
    assert new.startswith("lp_ss_") and new != old
    assert integrator.client.get("/v1/signature/secret").json() == {"secret": new, "previousSecrets": []}
    with pytest.raises(CommandError):
        call_command("signing_secret_rotate", "Nobody")


def test_used_nonces_are_purged_once_their_links_have_expired(integrator, frozen):
    nonce_consume(account=integrator.account, nonce="a" * 32, expires_at=NOW)
    frozen.shift(60)
    assert used_nonces_purge.delay().get() == 0  # kept a few minutes past expiry
    frozen.shift(600)
    assert used_nonces_purge.delay().get() == 1
    assert not UsedNonce.objects.exists()


def test_the_admin_lists_secrets_without_their_salt(integrator, admin_client):
    secret_of(integrator)
    page = admin_client.get("/admin/signing/signingsecret/")
    assert page.status_code == 200 and b"Acme" in page.content
    stored = SigningSecret.objects.get()
    detail = admin_client.get(f"/admin/signing/signingsecret/{stored.pk}/change/")
    assert detail.status_code == 200 and stored.salt.encode() not in detail.content
    assert admin_client.get("/admin/signing/usednonce/").status_code == 200
