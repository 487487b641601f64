"""Outbound URL rules: which webhook URLs we store and which addresses we connect to.

An integrator chooses the URL, so without these rules a webhook is a way to
make our server request internal services (cloud metadata, the database, the
admin on localhost). The same rules run when a URL is saved and again at
delivery time, and the delivery connects to the very address that passed the
check, so a DNS answer that changes in between (rebinding) gains nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from apps.core import addresses
from apps.core.addresses import IPAddress, literal_address

MAX_URL_LENGTH = 2048


class UnsafeURLError(ValueError):
    """The URL or an address it resolves to is not allowed as a webhook target."""


@dataclass(frozen=True)
class Target:
    """A checked destination: connect to ``addresses`` while naming ``host`` in Host/SNI."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def _loopback_allowed() -> bool:
    return bool(settings.WEBHOOK_ALLOW_LOOPBACK)


def address_refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` may not be contacted, or None when it is a public unicast address."""
    return addresses.address_refusal(ip, allow_loopback=_loopback_allowed())


def _parse(url: str) -> SplitResult:
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeURLError(f"Enter a URL of at most {MAX_URL_LENGTH} characters.")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise UnsafeURLError("The URL must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as exc:
        raise UnsafeURLError("Enter a valid URL.") from exc
    allowed = ("https", "http") if settings.ALLOW_HTTP_OUTBOUND else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeURLError("The URL must use https." if len(allowed) == 1 else "The URL must use http or https.")
    if not parts.hostname:
        raise UnsafeURLError("The URL must name a host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURLError("The URL must not contain credentials.")
    return parts


def _check_hostname(host: str) -> None:
    reason = addresses.hostname_refusal(host, allow_loopback=_loopback_allowed())
    if reason:
        raise UnsafeURLError(f"The URL points to {reason}.")


def _check_addresses(host: str, addresses: list[IPAddress]) -> None:
    for ip in addresses:
        reason = address_refusal(ip)
        if reason:
            raise UnsafeURLError(f"The host {host} resolves to {reason}; webhooks go to public addresses only.")


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to. The one seam tests replace to fake DNS."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# getaddrinfo cannot be interrupted; a few helper threads let callers stop waiting for a slow resolver.
_resolver_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")


def _resolve_within(host: str, port: int) -> list[str]:
    timeout = float(settings.WEBHOOK_DNS_TIMEOUT_SECONDS)
    try:
        return _resolver_pool.submit(resolve, host, port).result(timeout=timeout)
    except FuturesTimeout as exc:
        raise OSError(f"DNS lookup of {host} took longer than {timeout:g} s") from exc


def check_url_on_save(url: str) -> None:
    """Raise ValueError with a user-facing message when ``url`` may not be stored as a webhook URL.

    A host that does not resolve is accepted (DNS may be down, and documentation
    hosts do not resolve); the delivery checks it again.
    """
    parts = _parse(url)
    host = parts.hostname or ""
    literal = literal_address(host)
    if literal is not None:
        _check_addresses(host, [literal])
        return
    _check_hostname(host)
    try:  # the rules a config's webhookConfig already applied: https://%00/ or https://1.2.3.4.5/ names no host
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise UnsafeURLError("Enter a valid URL.") from None
    try:
        found = _resolve_within(host, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError):
        return
    _check_addresses(host, [ipaddress.ip_address(a.split("%")[0]) for a in found])


def target_for_delivery(url: str) -> Target:
    """Check ``url`` now and return the addresses to connect to; raises UnsafeURLError or OSError (DNS)."""
    parts = _parse(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    # http.client sends the request target as ASCII; percent-encode anything else, keep existing escapes.
    path = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe="/?&=%:@!$'()*+,;~-._")
    literal = literal_address(host)
    if literal is not None:
        _check_addresses(host, [literal])
        return Target(parts.scheme, str(literal), port, path, (str(literal),))
    _check_hostname(host)
    try:
        found = _resolve_within(host, port)
    except UnicodeError as exc:
        raise UnsafeURLError(f"The host {host} is not a valid name.") from exc
    if not found:
        raise OSError(f"The host {host} did not resolve.")
    addresses = [ipaddress.ip_address(a.split("%")[0]) for a in found]
    _check_addresses(host, addresses)
    return Target(parts.scheme, host, port, path, tuple(str(a) for a in addresses))
