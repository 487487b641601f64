"""The outbound URL rules, at save time and at delivery time, over a table of addresses and names."""

from __future__ import annotations

import pytest

from apps.webhooks import ssrf
from apps.webhooks.ssrf import UnsafeURLError, check_url_on_save, target_for_delivery

# Fake DNS for names: the one seam (ssrf.resolve) is replaced, nothing leaves the machine.
FAKE_DNS = {
    "hooks.example.com": ["93.184.216.34"],
    "dual.example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "internal.example.com": ["10.1.2.3"],
    "mixed.example.com": ["93.184.216.34", "192.168.1.10"],
    "metadata-alias.example.com": ["169.254.169.254"],
    "v6-loopback.example.com": ["::1"],
    "nat64-private.example.com": ["64:ff9b::c0a8:0101"],
    "cgnat.example.com": ["100.100.1.1"],
    "localhost": ["127.0.0.1"],
    "db.localhost": ["127.0.0.1"],
}

REFUSED = [
    # loopback, unspecified
    ("https://127.0.0.1/hook", "loopback"),
    ("https://127.8.9.10/hook", "loopback"),
    ("https://[::1]/hook", "loopback"),
    ("https://0.0.0.0/hook", "unspecified"),
    ("https://[::]/hook", "unspecified"),
    # private, shared, link-local, metadata
    ("https://10.0.0.1/hook", "private"),
    ("https://172.16.5.4/hook", "private"),
    ("https://192.168.0.1/hook", "private"),
    ("https://100.64.0.1/hook", "CGNAT"),
    ("https://100.127.255.254/hook", "CGNAT"),
    ("https://169.254.10.10/hook", "link-local"),
    ("https://169.254.169.254/latest/meta-data/", "metadata"),
    ("https://168.63.129.16/machine", "metadata"),
    ("https://100.100.100.200/latest", "metadata"),
    ("https://[fd00:ec2::254]/latest", "metadata"),
    ("https://[fe80::1]/hook", "link-local"),
    ("https://[fc00::5]/hook", "private"),
    # multicast, reserved, documentation, broadcast
    ("https://224.0.0.1/hook", "multicast"),
    ("https://239.255.255.250/hook", "multicast"),
    ("https://[ff02::1]/hook", "multicast"),
    ("https://240.0.0.1/hook", "reserved"),
    ("https://255.255.255.255/hook", "reserved"),
    ("https://192.0.2.10/hook", "private"),
    ("https://198.18.0.1/hook", "private"),
    ("https://[2001:db8::1]/hook", "private"),
    ("https://[3fff::1]/hook", "documentation"),  # RFC 9637 (2024): unknown to Python 3.11's ipaddress
    ("https://[3fff:fff:ffff::1]/hook", "documentation"),
    ("https://[fec0::1]/hook", "site-local"),  # deprecated (RFC 3879); Python calls it global
    ("https://[feff::1]/hook", "site-local"),
    # IPv4 embedded in IPv6: mapped, compatible, 6to4, NAT64
    ("https://[::ffff:127.0.0.1]/hook", "loopback"),
    ("https://[::ffff:10.0.0.1]/hook", "private"),
    ("https://[::ffff:169.254.169.254]/hook", "metadata"),
    ("https://[::127.0.0.1]/hook", "loopback"),
    ("https://[::8.8.8.8]/hook", "IPv4-compatible"),
    ("https://[2002:7f00:1::1]/hook", "loopback"),
    ("https://[2002:a9fe:a9fe::1]/hook", "metadata"),
    ("https://[64:ff9b::7f00:1]/hook", "loopback"),
    ("https://[64:ff9b::a00:1]/hook", "private"),
    # legacy IPv4 spellings that resolvers accept
    ("https://2130706433/hook", "loopback"),
    ("https://0x7f000001/hook", "loopback"),
    ("https://127.1/hook", "loopback"),
    ("https://0177.0.0.1/hook", "loopback"),
    # names
    ("https://localhost/hook", "localhost"),
    ("https://db.localhost/hook", "localhost"),
    ("https://metadata.google.internal/computeMetadata/v1/", "metadata"),
    ("https://internal.example.com/hook", "private"),
    ("https://mixed.example.com/hook", "private"),
    ("https://metadata-alias.example.com/hook", "metadata"),
    ("https://v6-loopback.example.com/hook", "loopback"),
    ("https://nat64-private.example.com/hook", "private"),
    ("https://cgnat.example.com/hook", "CGNAT"),
    # malformed or not https
    ("http://hooks.example.com/hook", "https"),
    ("ftp://hooks.example.com/hook", "https"),
    ("https://user:pass@hooks.example.com/hook", "credentials"),
    ("https:///hook", "host"),
    ("https://hooks.example.com:99999/hook", "valid URL"),
    ("https://hooks.example.com/a b", "spaces"),
    ("https://hooks.example.com/" + "a" * 2100, "2048"),
]

ACCEPTED = [
    "https://hooks.example.com/hook",
    "https://dual.example.com:8443/hook?x=1",
    "https://93.184.216.34/hook",
    "https://[2606:4700:4700::1111]/hook",
    "https://[::ffff:8.8.8.8]/hook",
    "https://[2002:0808:0808::1]/hook",
    "https://[64:ff9b::808:808]/hook",
    "https://your-server.example.com/webhook",  # does not resolve: accepted, checked again at delivery
]


@pytest.fixture(autouse=True)
def _production_rules(settings, monkeypatch) -> None:
    settings.ALLOW_HTTP_OUTBOUND = False
    settings.WEBHOOK_ALLOW_LOOPBACK = False

    def fake_resolve(host: str, port: int) -> list[str]:
        if host in FAKE_DNS:
            return FAKE_DNS[host]
        raise OSError(f"[Errno -2] Name or service not known: {host}")

    monkeypatch.setattr(ssrf, "resolve", fake_resolve)


def test_the_table_is_big_enough():
    assert len(REFUSED) + len(ACCEPTED) >= 30


@pytest.mark.parametrize(("url", "reason"), REFUSED, ids=[u[:60] for u, _ in REFUSED])
def test_it_refuses_a_url_on_save_naming_the_reason(url: str, reason: str):
    with pytest.raises(ValueError, match=reason):
        check_url_on_save(url)


@pytest.mark.parametrize(("url", "reason"), REFUSED, ids=[u[:60] for u, _ in REFUSED])
def test_it_refuses_the_same_urls_at_delivery(url: str, reason: str):
    with pytest.raises(UnsafeURLError, match=reason):
        target_for_delivery(url)


@pytest.mark.parametrize(
    "url", ["https://%00/", "https://../", "https://[v1.x]/", "https://1.2.3.4.5/", "https://a..b/"]
)
def test_a_url_that_names_no_host_is_refused_on_save(url: str):
    """webhooks/test and /verif/ settings took these (a config's webhookConfig refused them already)."""
    with pytest.raises(ValueError, match="valid URL"):
        check_url_on_save(url)


@pytest.mark.parametrize("url", ACCEPTED)
def test_it_accepts_public_https_urls_on_save(url: str):
    check_url_on_save(url)


def test_delivery_connects_to_every_checked_address_of_a_public_name():
    target = target_for_delivery("https://dual.example.com:8443/hook?x=1")
    assert (target.scheme, target.host, target.port, target.path) == ("https", "dual.example.com", 8443, "/hook?x=1")
    assert target.addresses == ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946")


def test_a_name_that_does_not_resolve_at_delivery_is_a_dns_error_not_a_pass():
    with pytest.raises(OSError, match="not known"):
        target_for_delivery("https://your-server.example.com/webhook")


def test_http_is_allowed_only_by_the_explicit_setting(settings):
    settings.ALLOW_HTTP_OUTBOUND = True
    check_url_on_save("http://hooks.example.com/hook")
    with pytest.raises(ValueError, match="http or https"):
        check_url_on_save("ftp://hooks.example.com/hook")


def test_the_test_only_loopback_setting_opens_loopback_and_nothing_else(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    check_url_on_save("https://127.0.0.1:8443/hook")
    check_url_on_save("https://[::1]/hook")
    for url in ("https://10.0.0.1/hook", "https://169.254.169.254/", "https://[::ffff:192.168.0.1]/"):
        with pytest.raises(ValueError):
            check_url_on_save(url)


def test_a_resolver_that_hangs_does_not_hold_the_save_and_fails_the_delivery_attempt(settings, monkeypatch):
    import threading

    settings.WEBHOOK_DNS_TIMEOUT_SECONDS = 0.2
    release = threading.Event()

    def hanging(host: str, port: int) -> list[str]:
        release.wait(5)
        return ["10.0.0.1"]

    monkeypatch.setattr(ssrf, "resolve", hanging)
    try:
        check_url_on_save("https://slow-dns.example.com/hook")  # accepted: checked again at delivery
        with pytest.raises(OSError, match="took longer"):
            target_for_delivery("https://slow-dns.example.com/hook")
    finally:
        release.set()


def test_in_tests_reserved_example_names_fail_at_once_and_other_names_still_resolve():
    import socket
    import time

    from tests.conftest import is_reserved_name

    assert [is_reserved_name(h) for h in ("hooks.example.com", "example.org.", "shop.example", "a.test")] == [True] * 4
    assert not any(is_reserved_name(h) for h in ("localhost", "127.0.0.1", "notexample.com", "example.company"))
    started = time.monotonic()
    for _ in range(50):  # a real lookup drops about one query in 25 here and waits 5 s
        with pytest.raises(socket.gaierror):
            socket.getaddrinfo("hooks.example.com", 443)
    assert time.monotonic() - started < 1
    assert socket.getaddrinfo("localhost", 80)
