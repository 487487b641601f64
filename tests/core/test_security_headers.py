"""Production security defaults: HSTS, HTTPS redirect, `check --deploy`, and a CSP on every HTML page."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path
from unittest import mock

import csp.middleware
import csp.utils
import pytest
from django.test import Client

from apps.accounts.models import ApiKey
from apps.accounts.services import api_key_create
from apps.core import csp as fixed
from apps.sessions.models import Session
from apps.sessions.services.create import session_create
from tests.signing.helpers import verification_create

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(48),
    "ALLOWED_HOSTS": "verify.example.com",
    "PUBLIC_BASE_URL": "https://verify.example.com",
}


def _production(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python *args`` under the production settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "DEBUG", "DATABASE_URL", "REDIS_URL"))}
    clean.update(PRODUCTION_ENV, **env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


PRODUCTION_REDIRECT_EXEMPT = [r"^v1/healthz$", r"^v1/readyz$", r"^metrics$"]  # config/settings/production.py


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in policy.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


def test_check_deploy_is_clean_with_production_settings():
    result = _production("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout, result.stdout + result.stderr


def test_production_turns_on_hsts_and_the_https_redirect_by_default():
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.X_FRAME_OPTIONS)"
    )
    result = _production("-c", code)
    assert result.stdout.split() == ["True", "31536000", "True", "DENY"], result.stderr


def test_a_tls_terminating_proxy_can_turn_both_off():
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS)"
    )
    result = _production("-c", code, SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0")
    assert result.stdout.split() == ["False", "0"], result.stderr


def test_in_production_prometheus_scrapes_metrics_over_plain_http():
    code = (
        "import django; django.setup(); from django.test import Client;"
        "c = Client(HTTP_HOST='verify.example.com');"
        "print(c.get('/metrics').status_code, c.get('/metrics', HTTP_AUTHORIZATION='Bearer ' + 'm' * 32).status_code,"
        " c.get('/admin/login/').status_code)"
    )
    result = _production("-c", code, METRICS_TOKEN="m" * 32)
    assert result.stdout.split() == ["401", "200", "301"], result.stderr


def test_in_production_the_socket_may_connect_only_to_the_services_own_wss_origin():
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(*s.CONTENT_SECURITY_POLICY['DIRECTIVES']['connect-src'])"
    )
    assert _production("-c", code).stdout.split() == ["'self'", "wss://verify.example.com"]


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https_but_health_checks_are_not(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = PRODUCTION_REDIRECT_EXEMPT
    client = Client()
    assert client.get("/admin/login/")["Location"].startswith("https://")
    assert client.get("/v1/healthz").status_code == 200
    assert client.get("/v1/readyz").status_code in (200, 503)


def _html_pages(integrator, admin_client, settings) -> dict[str, object]:
    settings.DIRECT_SESSIONS_ENABLED = True
    settings.DEMO_MODE = True
    session = session_create(
        account=integrator.account,
        body={"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Passive"}}},
    )
    page = session.session_url.split("127.0.0.1:8000", 1)[-1]
    publishable = api_key_create(account=integrator.account, name="page", kind=ApiKey.Kind.PUBLISHABLE).plaintext
    anonymous = Client()
    return {
        "admin login": anonymous.get("/admin/login/"),
        "admin index": admin_client.get("/admin/"),
        "admin change list": admin_client.get("/admin/capture/session/"),
        "swagger": anonymous.get("/swagger/"),
        "hosted page": anonymous.get(page),
        "hosted page problem": anonymous.get(f"/s/{uuid.uuid4()}/?k=nope"),
        "hosted link error": anonymous.get(f"/v/{verification_create(integrator)}?x=1"),
        "direct": anonymous.get("/direct/"),
        "demo": anonymous.get("/demo/"),
        "selfie-id page": anonymous.get("/verif/", {"api_key": publishable, "user_identifier": "u1"}),
        "selfie-id page error": anonymous.get("/verif/"),
    }


@pytest.mark.django_db
def test_every_html_page_has_a_csp_whose_connect_src_names_only_this_service(integrator, admin_client, settings):
    for name, response in _html_pages(integrator, admin_client, settings).items():
        assert response["Content-Type"].startswith("text/html"), name
        policy = _directives(response.get("Content-Security-Policy", ""))
        assert policy.get("script-src") in (["'self'"], ["'none'"]), (name, policy)
        assert policy.get("connect-src", ["'none'"]) in (["'self'", "ws://127.0.0.1:8000"], ["'none'"]), (name, policy)
        assert policy.get("object-src") == ["'none'"] and policy.get("base-uri") == ["'none'"], (name, policy)
    assert Session.objects.exists()


@pytest.mark.django_db
def test_the_selfie_id_pages_accent_style_carries_the_policys_nonce(integrator, settings):
    publishable = api_key_create(account=integrator.account, name="page", kind=ApiKey.Kind.PUBLISHABLE).plaintext
    response = Client().get("/verif/", {"api_key": publishable, "user_identifier": "u1"})
    nonce = next(s for s in _directives(response["Content-Security-Policy"])["style-src"] if s.startswith("'nonce-"))
    assert f'<style nonce="{nonce[7:-1]}">' in response.content.decode()


@pytest.mark.django_db
def test_the_hosted_pages_keep_their_opener_and_the_rest_does_not(integrator, admin_client, settings):
    """An integrator's popup must keep window.opener (docs/signing.md); the admin stays same-origin."""
    pages = _html_pages(integrator, admin_client, settings)
    for name in ("hosted page", "hosted page problem", "hosted link error", "direct"):
        assert pages[name]["Cross-Origin-Opener-Policy"] == "unsafe-none", name
    for name in ("admin login", "admin index", "swagger", "selfie-id page"):
        assert pages[name]["Cross-Origin-Opener-Policy"] == "same-origin", name


@pytest.mark.django_db
def test_an_api_answer_gets_django_csps_policy_built_once_and_a_changed_setting_is_followed(integrator, settings):
    """The headers of a response no view varies are built once (apps/core/csp.py), and are django-csp's own."""
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    calls = []

    def counted(*args, **kwargs):
        calls.append(kwargs)
        return csp.utils.build_policy(*args, **kwargs)

    url = f"/v1/verification/get-session-result?verificationSessionId={uuid.uuid4()}"
    with mock.patch.object(csp.middleware, "build_policy", counted), mock.patch.object(fixed, "build_policy", counted):
        answers = [integrator.client.get(url) for _ in range(3)]
        assert len(calls) <= 2  # once per header, not twice per response
        assert {a.status_code for a in answers} == {404}
        assert {a["Content-Security-Policy"] for a in answers} == {csp.utils.build_policy()}
        assert {a["Content-Security-Policy-Report-Only"] for a in answers} == {"default-src 'none'"}
        settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'"], "img-src": ["data:"]}}
        changed = integrator.client.get(url)
    assert _directives(changed["Content-Security-Policy"]) == {"default-src": ["'self'"], "img-src": ["data:"]}
    # A page with a nonce or a policy of its own still gets its own (the selfie-ID and hosted pages' tests).
