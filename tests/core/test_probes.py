"""Load-balancer and kubelet probes name the instance by its address (Host: 10.0.3.7:8000): the probe
endpoints answer whatever the Host, every other path keeps Django's host check (400)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PROBE_HOST = "10.0.3.7:8000"


@pytest.fixture
def strict_hosts(settings):
    settings.ALLOWED_HOSTS = ["liveproof.example.com"]


@pytest.mark.usefixtures("strict_hosts")
def test_the_probes_answer_a_host_that_allowed_hosts_does_not_list():
    client = Client(HTTP_HOST=PROBE_HOST)
    healthz = client.get("/v1/healthz")
    assert healthz.status_code == 200 and healthz["Content-Type"].startswith("text/plain")
    assert healthz.content.decode().endswith("Z")
    readyz = client.get("/v1/readyz")
    assert readyz.status_code in (200, 503) and set(readyz.json()) == {"ready", "checks"}
    assert client.head("/v1/healthz").status_code == 200


@pytest.mark.usefixtures("strict_hosts")
def test_every_other_path_still_refuses_that_host():
    client = Client(HTTP_HOST=PROBE_HOST)
    assert client.get("/v1/datetime/utc-now").status_code == 400
    assert client.get("/v1/healthz/").status_code == 400  # only the exact probe paths
    assert client.post("/v1/healthz").status_code == 400
    assert Client(HTTP_HOST="liveproof.example.com").get("/v1/datetime/utc-now").status_code == 401  # past the check
