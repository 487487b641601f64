from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages

from apps.accounts.models import Account, ApiKey
from apps.accounts.services import api_key_authenticate

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = get_user_model().objects.create_superuser("operator", "op@example.com", "pw")
    client.force_login(user)
    return client


def test_admin_lists_accounts_and_their_keys(operator, integrator):
    page = operator.get("/admin/accounts/account/")
    assert page.status_code == 200
    assert b"Acme" in page.content
    keys = operator.get("/admin/accounts/apikey/")
    assert integrator.key.split("_")[2].encode() in keys.content
    assert integrator.key.encode() not in keys.content


def test_admin_creates_a_key_shown_once_that_works(operator, integrator):
    response = operator.post(
        "/admin/accounts/account/",
        {"action": "create_secret_key", "_selected_action": [str(integrator.account.id)]},
        follow=True,
    )
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    [message] = [m for m in shown if "shown only once" in m]
    plaintext = message.rsplit(" ", 1)[1]
    assert api_key_authenticate(plaintext=plaintext) is not None
    # Shown once: the account page never shows it again.
    again = operator.get(f"/admin/accounts/account/{integrator.account.id}/change/")
    assert plaintext.encode() not in again.content


def test_admin_revokes_a_key(operator, integrator):
    api_key = ApiKey.objects.get(account=integrator.account)
    operator.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [str(api_key.pk)]})
    assert integrator.client.get("/v1/datetime/utc-now").status_code == 401
    assert Account.objects.filter(pk=integrator.account.pk).exists()
