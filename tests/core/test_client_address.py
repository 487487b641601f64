"""Whose address the limits, allow-lists and audit trail see: behind a proxy that appends to X-Forwarded-For,
the one it appended (not what the client wrote); an IPv4 client on a dual-stack listener as IPv4; an IPv6
client at the admin login by its network, as every other limit counts it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from rest_framework.test import APIClient

from apps.accounts.models import ApiKey
from apps.accounts.services import api_key_networks_set
from apps.core.client_address import forwarded_client
from tests.served import embedded_service


def _call(base: str, key: str, path: str, method: str = "GET", body: object = None, forwarded: str = "") -> int:
    headers = {"Authorization": f"ApiKey {key}", "Content-Type": "application/json"}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    data = None if body is None else json.dumps(body).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(base + path, data, headers, method=method), timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.parametrize("module", ["config.serve", "config.serve_api"])
def test_behind_a_proxy_that_appends_the_client_cannot_claim_an_allowed_address(tmp_path, module):
    # The web process (daphne) and the API process (granian).
    with embedded_service(tmp_path, serve_args=("--proxy-headers",), module=module) as service:
        allowed = {"allowedNetworks": ["198.51.100.9/32"]}
        assert _call(service.base, service.key, "/v1/api-key/allowed-networks", "PUT", allowed) == 200
        # The proxy appended the address it saw: the allowed client, and a client writing the allowed address.
        assert _call(service.base, service.key, "/v1/verification/get-all", forwarded="198.51.100.9") == 200
        spoofed = "198.51.100.9, 192.0.2.66"
        assert _call(service.base, service.key, "/v1/verification/get-all", forwarded=spoofed) == 403
        assert _call(service.base, service.key, "/v1/verification/get-all") == 403  # the proxy itself: 127.0.0.1


def _scope(forwarded: str, client: str = "10.0.0.5") -> dict:
    return {"type": "http", "client": (client, 5000), "headers": [(b"x-forwarded-for", forwarded.encode())]}


def test_the_forwarded_client_is_the_entry_our_proxies_appended():
    with override_settings(PROXY_HEADERS=False):
        assert forwarded_client(_scope("198.51.100.9")) == "10.0.0.5"  # the header is ignored without the flag
    with override_settings(PROXY_HEADERS=True, PROXY_HOPS=1):
        assert forwarded_client(_scope("1.1.1.1, 198.51.100.9")) == "198.51.100.9"
        assert forwarded_client(_scope("not an address")) == "10.0.0.5"
    with override_settings(PROXY_HEADERS=True, PROXY_HOPS=2):  # a CDN in front of the load balancer
        assert forwarded_client(_scope("1.1.1.1, 198.51.100.9, 203.0.113.4")) == "198.51.100.9"
        assert forwarded_client(_scope("203.0.113.4")) == "10.0.0.5"  # fewer hops than configured: the peer
    assert forwarded_client(_scope("", client="::ffff:192.0.2.7")) == "192.0.2.7"


def _get(key: str, address: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    return client.get("/v1/verification/get-all", REMOTE_ADDR=address)


@pytest.mark.django_db
def test_ipv4_clients_of_a_dual_stack_listener_are_counted_and_allowed_as_ipv4(integrator, settings):
    settings.API_AUTH_FAILURES_PER_ADDRESS = "3/10m"
    for _ in range(4):
        _get(f"lp_sk_{uuid.uuid4().hex[:12]}_nope", "::ffff:198.51.100.20")
    assert _get(integrator.key, "::ffff:198.51.100.21").status_code == 200  # another client, its own bucket
    api_key_networks_set(api_key=ApiKey.objects.get(account=integrator.account), networks=["203.0.113.0/24"])
    assert _get(integrator.key, "::ffff:203.0.113.7").status_code == 200


@pytest.mark.django_db
def test_admin_login_failures_count_an_ipv6_client_by_its_network(settings):
    settings.AXES_FAILURE_LIMIT = 3
    network = f"2001:db8:{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"
    for n in range(1, 4):
        get_user_model().objects.create_user(f"staff{n}", password="right-password-42", is_staff=True)
    statuses = [
        Client(REMOTE_ADDR=f"{network}::{n:x}").post("/admin/login/", {"username": f"staff{n}", "password": "x"})
        for n in range(1, 4)  # three addresses of one /64, three user names: no name reaches the limit
    ]
    assert [s.status_code for s in statuses] == [200, 200, 429]
