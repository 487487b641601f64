"""Stored redirect targets refuse internal addresses (002: "the API rejects internal / private IPs").

A redirect is followed by the user's browser, so an internal target turns our
signed redirect into a pointer at the user's own network (router admin pages,
cloud metadata from a hosted browser).
"""

from __future__ import annotations

import pytest

from tests.signing.helpers import verification_config

pytestmark = pytest.mark.django_db

INTERNAL = [
    "https://10.0.0.1/",
    "https://127.0.0.1/done",
    "https://169.254.169.254/latest/meta-data/",
    "https://192.168.1.1:8443/",
    "https://[::1]/",
    "https://[fe80::1]/",
    "https://[fd00::5]/",
    "https://[::ffff:10.0.0.1]/",
    "https://[3fff::1]/",
    "https://[fec0::1]/",
    "https://2130706433/",
    "https://localhost/done",
    "https://router.localhost/",
    "https://metadata.google.internal/",
]
# Spellings a browser reads as those addresses (the URL Standard's host parser) and Python's do not.
BROWSER_SPELLED = [
    "https://10.0.0.1./",
    "https://127.0.0.1./",
    "https://169.254.169.254./",
    "https://0x7f.1./",
    "https://127.0.0.%31/",
    "https://\uff11\uff12\uff17.0.0.1/",
    "https://127\u30020\u30020\u30021/",
    "https://localhost./",
]


@pytest.mark.parametrize("url", INTERNAL)
@pytest.mark.parametrize("field", ["passedUrl", "failedUrl"])
def test_a_stored_redirect_url_on_an_internal_address_is_refused(integrator, url, field):
    config = verification_config(redirectConfig={field: url})
    response = integrator.client.post(
        "/v1/verification/create", {"name": "x", "verificationConfig": config}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert f"verificationConfig.redirectConfig.{field}" in response.json()["error"]["fields"]


@pytest.mark.parametrize("url", INTERNAL)
def test_an_allowed_redirect_origin_on_an_internal_address_is_refused(integrator, url):
    origin = url.split("/", 3)
    response = integrator.client.put(
        "/v1/signature/allowed-redirect-origins",
        {"allowedRedirectOrigins": [f"{origin[0]}//{origin[2]}"]},
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert "allowedRedirectOrigins[0]" in response.json()["error"]["fields"]
    integrator.account.refresh_from_db()
    assert integrator.account.allowed_redirect_origins == []


def test_public_addresses_and_names_are_still_accepted(integrator):
    config = verification_config(
        redirectConfig={"passedUrl": "https://93.184.216.34/ok", "failedUrl": "https://shop.example/no"}
    )
    response = integrator.client.post(
        "/v1/verification/create", {"name": "x", "verificationConfig": config}, format="json"
    )
    assert response.status_code == 200, response.json()


def test_the_services_own_origin_stays_a_valid_target_even_on_a_private_address(integrator, settings):
    # The demo integrator's return page lives on the service itself (scripts/run serves 127.0.0.1).
    settings.PUBLIC_BASE_URL = "https://127.0.0.1:8000"
    config = verification_config(redirectConfig={"passedUrl": "https://127.0.0.1:8000/demo/return"})
    response = integrator.client.post(
        "/v1/verification/create", {"name": "x", "verificationConfig": config}, format="json"
    )
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize("url", BROWSER_SPELLED)
def test_an_internal_address_spelled_as_a_browser_reads_it_is_refused_as_an_allowed_origin(integrator, url):
    """A trailing dot, percent-encoding, full-width digits or ideographic full stops: a browser opens this
    machine or the metadata service; the allow-list took them (they then reach frame-ancestors and postMessage)."""
    origin = url.split("/", 3)
    response = integrator.client.put(
        "/v1/signature/allowed-redirect-origins",
        {"allowedRedirectOrigins": [f"{origin[0]}//{origin[2]}"]},
        format="json",
    )
    assert response.status_code == 400, (url, response.json())
    integrator.account.refresh_from_db()
    assert integrator.account.allowed_redirect_origins == []


@pytest.mark.parametrize("url", BROWSER_SPELLED)
def test_an_internal_address_spelled_as_a_browser_reads_it_is_no_redirect_target(url):
    from apps.signing.redirects import internal_host_problem

    assert internal_host_problem(url) is not None, url
