"""Rate limits and lockouts through the real middleware, authentication and admin: counted in the shared cache."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.services import api_key_create
from apps.core.ratelimits import RateLimitExceeded, rate_limit_count, rate_limits_check
from tests.recorded_calls import record_calls

pytestmark = pytest.mark.django_db

ENDPOINT = "/v1/verification/get-all"


def _address() -> str:
    """An address (its own /64) no other test or earlier run has counted against."""
    return f"2001:db8:{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}::1"


def _get(key: str, address: str) -> object:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    return client.get(ENDPOINT, REMOTE_ADDR=address)


def _is_throttled(response) -> bool:
    body = response.json()
    retry_after = int(response["Retry-After"])
    return response.status_code == 429 and body["error"]["code"] == "throttled" and 0 < retry_after <= 600


def test_wrong_api_keys_from_one_address_get_429_with_retry_after_after_the_limit(integrator, settings):
    settings.API_AUTH_FAILURES_PER_ADDRESS = "5/10m"
    address = _address()
    wrong = [_get(f"lp_sk_{uuid.uuid4().hex[:12]}_nope", address) for _ in range(5)]
    assert [r.status_code for r in wrong] == [401] * 5
    assert _is_throttled(_get("lp_sk_000000000000_nope", address))
    # The address is refused before any key is checked, so a guess cannot be confirmed...
    assert _is_throttled(_get(integrator.key, address))
    # ...while the same key from elsewhere works.
    assert _get(integrator.key, _address()).status_code == 200


def test_malformed_keys_and_bad_tokens_count_as_failures_too(integrator, settings):
    settings.API_AUTH_FAILURES_PER_ADDRESS = "3/10m"
    address = _address()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert client.get(ENDPOINT, REMOTE_ADDR=address).status_code == 401
    assert _get("garbage", address).status_code == 401
    assert _get("lp_sk_000000000000_x", address).status_code == 401
    assert _is_throttled(client.get(ENDPOINT, REMOTE_ADDR=address))


def test_wrong_secrets_for_one_key_prefix_are_limited_across_addresses(integrator, settings):
    settings.API_AUTH_FAILURES_PER_KEY = "4/10m"
    settings.API_AUTH_FAILURES_PER_ADDRESS = "1000/10m"
    prefix = integrator.key.rsplit("_", 1)[0]
    guesses = [_get(f"{prefix}_guess{n}", _address()) for n in range(4)]
    assert [r.status_code for r in guesses] == [401] * 4
    assert _is_throttled(_get(f"{prefix}_guess5", _address()))
    other = api_key_create(account=integrator.account, name="other").plaintext
    assert _get(other.rsplit("_", 1)[0] + "_wrong", _address()).status_code == 401  # another prefix is untouched


def test_a_successful_request_is_not_counted(integrator, settings):
    settings.API_AUTH_FAILURES_PER_ADDRESS = "2/10m"
    address = _address()
    assert all(_get(integrator.key, address).status_code == 200 for _ in range(5))


def test_the_admin_login_locks_after_repeated_wrong_passwords(db, settings):
    settings.AXES_FAILURE_LIMIT = 5
    User.objects.create_superuser("ops", "ops@example.com", "the-right-password-42")
    browser = Client(REMOTE_ADDR=_address())
    for _ in range(4):
        response = browser.post("/admin/login/", {"username": "ops", "password": "wrong"})
        assert response.status_code == 200  # the form again, with an error
    assert browser.post("/admin/login/", {"username": "ops", "password": "wrong"}).status_code == 429  # the 5th
    locked = browser.post("/admin/login/", {"username": "ops", "password": "the-right-password-42"})
    assert locked.status_code == 429
    assert "_auth_user_id" not in browser.session
    # The lockout holds for the user name from another address too (a distributed guess).
    elsewhere = Client(REMOTE_ADDR=_address())
    assert elsewhere.post("/admin/login/", {"username": "ops", "password": "the-right-password-42"}).status_code == 429


def test_a_correct_admin_login_resets_the_failure_count(db, settings):
    settings.AXES_FAILURE_LIMIT = 3
    User.objects.create_superuser("ops", "ops@example.com", "the-right-password-42")
    browser = Client(REMOTE_ADDR=_address())
    for _ in range(2):
        browser.post("/admin/login/", {"username": "ops", "password": "wrong"})
    assert browser.post("/admin/login/", {"username": "ops", "password": "the-right-password-42"}).status_code == 302
    browser.logout()
    for _ in range(2):
        assert browser.post("/admin/login/", {"username": "ops", "password": "wrong"}).status_code == 200


def test_the_check_reads_the_counters_once_writes_nothing_and_refuses_where_get_usage_would(settings, monkeypatch):
    rate = "3/10m"
    limits = [("check-group-a", rate, uuid.uuid4().hex), ("check-group-b", rate, uuid.uuid4().hex)]
    cache = caches[settings.RATELIMIT_USE_CACHE]
    calls = record_calls(monkeypatch, cache, ("add", "get", "get_many", "set", "incr"))
    rate_limits_check(limits)
    assert calls == ["get_many"]  # one round trip, and no zero counters written
    calls.clear()
    group, _, key = limits[1]
    for _ in range(3):
        rate_limit_count(group=group, rate=rate, key=key)  # django-ratelimit's own counting
    rate_limits_check(limits)  # 3 of 3 used: the next failure would be refused, this check is not
    with pytest.raises(RateLimitExceeded) as refused:
        rate_limit_count(group=group, rate=rate, key=key)
    with pytest.raises(RateLimitExceeded) as checked:
        rate_limits_check(limits)
    assert 0 < checked.value.retry_after <= 600 and abs(checked.value.retry_after - refused.value.retry_after) <= 1


def test_the_check_moves_to_the_next_window_with_django_ratelimit(monkeypatch):
    """The check's cache keys are remembered per window (apps/core/ratelimits.py): when a window ends, the check
    reads the new window's counter, as django-ratelimit's counting does, not the used-up one it remembered."""
    import django_ratelimit.core

    rate, group, key = "2/m", "window-group", uuid.uuid4().hex
    now = [1_800_000_000.0]
    monkeypatch.setattr(django_ratelimit.core.time, "time", lambda: now[0])
    for _ in range(2):
        rate_limit_count(group=group, rate=rate, key=key)
    with pytest.raises(RateLimitExceeded):
        rate_limit_count(group=group, rate=rate, key=key)  # the third in a minute: refused, and counted
    with pytest.raises(RateLimitExceeded):
        rate_limits_check([(group, rate, key)])
    now[0] += 60  # the next window: nothing used in it yet
    rate_limits_check([(group, rate, key)])
    rate_limit_count(group=group, rate=rate, key=key)
    rate_limits_check([(group, rate, key)])  # 1 of 2 in this window
    now[0] -= 60  # the earlier window's counter is still there, and still used up
    with pytest.raises(RateLimitExceeded):
        rate_limits_check([(group, rate, key)])
