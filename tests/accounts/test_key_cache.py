from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts import key_cache
from apps.accounts.models import Account, ApiKey
from apps.accounts.services import api_key_authenticate, api_key_networks_set, api_key_revoke
from tests.recorded_calls import record_calls

URL = "/v1/datetime/utc-now"


def _key_selects(client, url: str = URL) -> tuple[int, int]:
    """(status, SELECTs of API keys) of one request."""
    with CaptureQueriesContext(connection) as queries:
        status = client.get(url).status_code
    selects = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and '"accounts_apikey"' in q["sql"]]
    return status, len(selects)


@pytest.fixture
def warm(integrator) -> Callable[[], tuple[int, int]]:
    """The integrator's key, authenticated once so this process has it cached."""
    assert _key_selects(integrator.client) == (200, 1)
    return lambda: _key_selects(integrator.client)


@pytest.mark.django_db
def test_a_second_request_with_the_same_key_reads_no_key_from_the_database(warm):
    assert warm() == (200, 0)
    assert warm() == (200, 0)


@pytest.mark.django_db
def test_a_key_revoked_through_the_service_is_refused_on_the_very_next_request(integrator, warm):
    api_key_revoke(api_key=ApiKey.objects.get(account=integrator.account))
    assert warm()[0] == 401


@pytest.mark.django_db
def test_a_key_revoked_by_a_plain_save_is_refused_on_the_very_next_request(integrator, warm):
    api_key = ApiKey.objects.get(account=integrator.account)
    api_key.revoked_at = timezone.now()
    api_key.save()
    assert warm()[0] == 401


@pytest.mark.django_db
def test_a_revocation_by_another_process_is_seen_through_the_shared_version(integrator, warm):
    # Another process revokes the key and bumps the version; nothing tells this process but the shared cache.
    ApiKey.objects.filter(account=integrator.account).update(revoked_at=timezone.now())
    assert warm() == (200, 0)  # (what the version prevents: the cached key still works until it is bumped)
    cache.incr(key_cache.VERSION_KEY)
    assert warm()[0] == 401


@pytest.mark.django_db
def test_a_changed_account_is_seen_on_the_very_next_request(integrator, warm):
    integrator.account.name = "Acme Renamed"
    integrator.account.save()
    api_key = api_key_authenticate(plaintext=integrator.key)
    assert api_key is not None and api_key.account.name == "Acme Renamed"


@pytest.mark.django_db
def test_a_deleted_account_and_its_keys_are_refused_on_the_very_next_request(integrator, warm):
    Account.objects.filter(pk=integrator.account.pk).delete()
    assert warm()[0] == 401


@pytest.mark.django_db
def test_a_key_restricted_to_other_networks_is_refused_on_the_very_next_request(integrator, warm):
    api_key_networks_set(api_key=ApiKey.objects.get(account=integrator.account), networks=["10.0.0.0/8"])
    assert warm()[0] == 403


@pytest.mark.django_db
def test_a_wrong_key_with_the_prefix_of_a_cached_key_is_refused(integrator, warm, anonymous):
    forged = integrator.key[:-4] + ("aaaa" if not integrator.key.endswith("aaaa") else "bbbb")
    anonymous.credentials(HTTP_AUTHORIZATION=f"ApiKey {forged}")
    assert _key_selects(anonymous)[0] == 401
    assert warm() == (200, 0)


@pytest.mark.django_db
def test_with_the_cache_off_every_request_reads_the_key(integrator, settings):
    settings.API_KEY_CACHE_SECONDS = 0
    assert _key_selects(integrator.client) == (200, 1)
    assert _key_selects(integrator.client) == (200, 1)


@pytest.mark.django_db
def test_a_cached_key_is_read_again_after_the_ttl(warm, settings, monkeypatch):
    now = key_cache.monotonic()
    monkeypatch.setattr(key_cache, "monotonic", lambda: now + settings.API_KEY_CACHE_SECONDS - 0.5)
    assert warm() == (200, 0)
    monkeypatch.setattr(key_cache, "monotonic", lambda: now + settings.API_KEY_CACHE_SECONDS + 0.5)
    assert warm() == (200, 1)


def _version_unreadable(monkeypatch, down: dict[str, bool]) -> None:
    """Every read of the keys version fails while ``down["on"]``: alone, or among the request's other keys
    (authentication reads them all in one round trip)."""
    real_get, real_get_many = cache.get, cache.get_many

    def get(key, *args, **kwargs):
        if down["on"] and key == key_cache.VERSION_KEY:
            raise ConnectionError("Redis is down")
        return real_get(key, *args, **kwargs)

    def get_many(keys, *args, **kwargs):
        if down["on"] and key_cache.VERSION_KEY in keys:
            raise ConnectionError("Redis is down")
        return real_get_many(keys, *args, **kwargs)

    monkeypatch.setattr(cache, "get", get)
    monkeypatch.setattr(cache, "get_many", get_many)


@pytest.mark.django_db
def test_a_keys_version_that_cannot_be_read_falls_back_to_the_database(warm, monkeypatch):
    _version_unreadable(monkeypatch, {"on": True})
    assert warm() == (200, 1)
    assert warm() == (200, 1)


@pytest.mark.django_db
def test_a_cached_key_still_records_its_last_use_once_a_minute(integrator, monkeypatch):
    monkeypatch.setattr(key_cache, "monotonic", lambda: 1000.0)  # the cached entry stays fresh throughout
    start = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        assert _key_selects(integrator.client) == (200, 1)
        traveller.shift(dt.timedelta(seconds=30))
        assert _key_selects(integrator.client) == (200, 0)
        assert ApiKey.objects.get(account=integrator.account).last_used_at == start
        traveller.shift(dt.timedelta(seconds=60))
        assert _key_selects(integrator.client) == (200, 0)
        assert ApiKey.objects.get(account=integrator.account).last_used_at == start + dt.timedelta(seconds=90)


def test_the_cache_drops_the_least_recently_used_key_beyond_its_size():
    lru = key_cache.KeyLru(max_entries=2)
    keys = {name: ApiKey(account=Account(name=name), prefix=name, hashed_key=name) for name in ("a", "b", "c")}
    lru.put(("a", "a"), keys["a"], version=1)
    lru.put(("b", "b"), keys["b"], version=1)
    assert lru.get(("a", "a"), version=1, ttl=5) is not None  # "a" is now the most recently used
    lru.put(("c", "c"), keys["c"], version=1)
    assert len(lru) == 2
    assert lru.get(("b", "b"), version=1, ttl=5) is None
    assert lru.get(("a", "a"), version=1, ttl=5) is not None
    assert lru.get(("a", "a"), version=2, ttl=5) is None


@pytest.mark.django_db
def test_a_key_revoked_while_the_cache_was_down_is_refused_once_it_is_back(integrator, warm, monkeypatch):
    """The revocation could not bump the version; the entry cached before the outage must not come back."""
    down = {"on": True}
    _version_unreadable(monkeypatch, down)
    assert warm() == (200, 1)  # during the outage: looked up in the database
    ApiKey.objects.filter(account=integrator.account).update(revoked_at=timezone.now())  # no bump reaches Redis
    down["on"] = False
    assert warm()[0] == 401


@pytest.mark.django_db
def test_an_authenticated_request_reads_the_cache_in_one_round_trip(warm, monkeypatch):
    """The failed-authentication counters, the keys version and the key's known address: one read, not three."""
    reads = record_calls(monkeypatch, cache, ("get", "get_many"))
    assert warm() == (200, 0)
    assert reads == ["get_many"]
