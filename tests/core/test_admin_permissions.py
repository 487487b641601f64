"""What the admin lets each operator do: a view-only staff user views; actions, deletes and secrets need more.

Each case was open before (found by a review of the operators' admin): a user with only a model's "view"
permission could run its custom actions, read the webhook signing secret, and deletes and adds that bypass the
services (faces, API keys) or crashed (a face with no collection) were offered.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from apps.accounts.models import ApiKey
from apps.audit.models import AuditEvent
from apps.verifications.models import VerificationConfig
from apps.webhooks.models import WebhookSecret
from apps.webhooks.signing_secrets import webhook_secret_get_or_create
from tests.signing.helpers import verification_create

pytestmark = pytest.mark.django_db


def _staff(*permissions: str) -> Client:
    user = User.objects.create_user(f"viewer{User.objects.count()}", password="x", is_staff=True)
    for permission in permissions:
        app, codename = permission.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    client = Client()
    client.force_login(user)
    return client


def _act(client: Client, changelist: str, action: str, pks: list) -> None:
    client.post(reverse(changelist), {"action": action, "_selected_action": [str(pk) for pk in pks]})


def test_a_view_only_operator_runs_no_action(integrator):
    keys = ApiKey.objects.count()
    _act(
        _staff("accounts.view_account"),
        "admin:accounts_account_changelist",
        "create_secret_key",
        [integrator.account.pk],
    )
    assert ApiKey.objects.count() == keys  # a new key, its plaintext shown to them
    key = ApiKey.objects.get(account=integrator.account)
    _act(_staff("accounts.view_apikey"), "admin:accounts_apikey_changelist", "revoke", [key.pk])
    key.refresh_from_db()
    assert key.revoked_at is None
    secret = webhook_secret_get_or_create(account=integrator.account).secret
    found = WebhookSecret.objects.get(account=integrator.account)
    _act(_staff("webhooks.view_webhooksecret"), "admin:webhooks_webhooksecret_changelist", "rotate", [found.pk])
    assert WebhookSecret.objects.get(account=integrator.account).secret == secret
    config = VerificationConfig.objects.get(id=verification_create(integrator, name="kyc"))
    _act(_staff("verifications.view_verificationconfig"), "admin:verifications_verificationconfig_changelist",
         "duplicate", [config.pk])  # fmt: skip
    assert VerificationConfig.objects.filter(account=integrator.account).count() == 1


def test_the_webhook_signing_secret_is_shown_only_to_who_may_rotate_it(integrator, admin_client):
    secret = webhook_secret_get_or_create(account=integrator.account)
    page = reverse("admin:webhooks_webhooksecret_change", args=[secret.pk])
    viewer = _staff("webhooks.view_webhooksecret").get(page)
    assert viewer.status_code == 200 and secret.secret.encode() not in viewer.content
    assert secret.secret.encode() in admin_client.get(page).content


def test_faces_are_not_added_or_edited_in_the_admin_and_a_delete_is_the_apis(integrator, admin_client):
    from apps.faces.models import Face, FaceCollection

    assert admin_client.get(reverse("admin:faces_face_add")).status_code == 403  # a face without a collection: 500
    assert admin_client.get(reverse("admin:faces_facecollection_add")).status_code == 403
    collection = FaceCollection.objects.create(
        account=integrator.account, collection_id="staff", engine="dlib", model_version="m", dimension=2
    )
    face = Face.objects.create(collection=collection, face_id="f" * 32, embedding=b"\0" * 8)
    response = admin_client.post(reverse("admin:faces_face_delete", args=[face.pk]), {"post": "yes"})
    assert response.status_code == 302 and not Face.objects.filter(pk=face.pk).exists()
    assert AuditEvent.objects.filter(type="face.deleted").exists()  # the API's deletion, audited


def test_an_api_key_is_revoked_not_deleted(integrator, admin_client):
    key = ApiKey.objects.get(account=integrator.account)
    assert admin_client.post(reverse("admin:accounts_apikey_delete", args=[key.pk]), {"post": "yes"}).status_code == 403
    assert ApiKey.objects.filter(pk=key.pk).exists()


def test_a_new_keys_plaintext_does_not_travel_in_a_cookie(integrator, admin_client):
    response = admin_client.post(
        reverse("admin:accounts_account_changelist"),
        {"action": "create_secret_key", "_selected_action": [str(integrator.account.pk)]},
    )
    assert "messages" not in response.cookies  # signed, not encrypted: the key could be read from it


@pytest.mark.parametrize("origins", [["*"], ["http://10.0.0.1"], ["https://shop.example/path"], ["https://127.0.0.1."]])
def test_the_account_form_checks_allowed_origins_by_the_apis_rules(integrator, origins):
    """The list feeds the hosted page's frame-ancestors and the socket's origin check; the admin form stored
    anything (``*`` let any site frame the capture page)."""
    import json

    from apps.accounts.admin import AccountForm

    account = integrator.account
    form = AccountForm(data={"name": account.name, "allowed_redirect_origins": json.dumps(origins)}, instance=account)
    assert not form.is_valid() and "allowed_redirect_origins" in form.errors, form.errors
    good = {"name": account.name, "allowed_redirect_origins": json.dumps(["https://Shop.example/"])}
    form = AccountForm(data=good, instance=account)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["allowed_redirect_origins"] == ["https://shop.example"]


def test_a_change_made_in_the_admin_is_audited_as_that_operator(integrator, admin_client, admin_user):
    """The trail named every admin change "system" (a worker) with no address: it could not say who acted."""
    key = ApiKey.objects.get(account=integrator.account)
    _act(admin_client, "admin:accounts_apikey_changelist", "revoke", [key.pk])
    event = AuditEvent.objects.get(type="apiKey.revoked", subject_id=key.prefix)
    assert (event.actor, event.address) == (f"admin:{admin_user.get_username()}", "127.0.0.1")


def test_a_superuser_can_delete_an_account_with_its_sessions_and_keys(integrator, admin_client):
    """Sessions and keys refuse single deletes in the admin, which blocked the account's cascade: 403, and
    retention's "deleting the account" had no way to happen."""
    from apps.accounts.models import Account
    from apps.sessions.models import Session
    from tests.sessions.conftest import make_session

    session = make_session(integrator.account)
    page = reverse("admin:accounts_account_delete", args=[integrator.account.pk])
    assert admin_client.post(page, {"post": "yes"}).status_code == 302
    assert not Account.objects.filter(pk=integrator.account.pk).exists()
    assert not Session.objects.filter(pk=session.pk).exists() and not ApiKey.objects.exists()
    # Not a superuser: the sessions' and keys' permissions still stand in the way.
    from tests.conftest import make_integrator

    other = make_integrator("Globex")
    make_session(other.account)
    viewer = _staff("accounts.view_account", "accounts.delete_account")
    assert (
        viewer.post(reverse("admin:accounts_account_delete", args=[other.account.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert Account.objects.filter(pk=other.account.pk).exists()


def test_used_nonces_and_signing_secrets_are_not_deleted_in_the_admin(integrator, admin_client):
    """A deleted used nonce let its signed link be opened again; deleted secrets bypassed rotation and audit."""
    from django.utils import timezone

    from apps.signing.models import UsedNonce
    from apps.signing.services import signing_secret_current

    nonce = UsedNonce.objects.create(account=integrator.account, nonce="0" * 32, expires_at=timezone.now())
    assert (
        admin_client.post(reverse("admin:signing_usednonce_delete", args=[nonce.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert UsedNonce.objects.filter(pk=nonce.pk).exists()
    secret = webhook_secret_get_or_create(account=integrator.account)
    assert (
        admin_client.post(reverse("admin:webhooks_webhooksecret_delete", args=[secret.pk]), {"post": "yes"}).status_code
        == 403
    )
    signing = signing_secret_current(account=integrator.account)
    page = reverse("admin:signing_signingsecret_delete", args=[signing.pk])
    assert admin_client.post(page, {"post": "yes"}).status_code == 403
