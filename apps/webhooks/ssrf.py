"""Outbound URL rules: which webhook URLs we store and which addresses we connect to.

An integrator chooses the URL, so without these rules a webhook is a way to
make our server request internal services (cloud metadata, the database, the
admin on localhost). The same rules run when a URL is saved and again at
delivery time, and the delivery connects to the very address that passed the
check, so a DNS answer that changes in between (rebinding) gains nothing.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048

# Addresses of instance-metadata services that are not all caught by "not global".
CLOUD_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "168.63.129.16",  # Azure WireServer (a public address)
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (legacy)
        "fd00:ec2::254",  # AWS IPv6
    )
)
METADATA_HOSTNAMES = frozenset({"metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal"})
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
LOOPBACK_NETWORKS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
# inet_aton accepts these legacy spellings of IPv4 (2130706433, 0x7f.1, 0177.0.0.1); treat them as literals.
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)


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


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64 or (ip in IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _loopback_allowed(ip: IPAddress) -> bool:
    return bool(settings.WEBHOOK_ALLOW_LOOPBACK) and any(ip in net for net in LOOPBACK_NETWORKS)


def address_refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` may not be contacted, or None when it is a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%")[0])
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            reason = address_refusal(embedded)
            if reason:
                return f"{reason} (embedded in {ip})"
            if ip.ipv4_mapped is not None or ip in NAT64:
                return None  # the embedded public IPv4 address is what is actually reached
            if ip in IPV4_COMPATIBLE:
                return "a deprecated IPv4-compatible address"
    if _loopback_allowed(ip):
        return None
    if ip in CLOUD_METADATA:
        return "a cloud metadata address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT:
        return "a shared (CGNAT) address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "a non-public address"
    return None


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


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
    name = host.rstrip(".").lower()
    if name in METADATA_HOSTNAMES:
        raise UnsafeURLError("The URL points to a cloud metadata service.")
    if (name == "localhost" or name.endswith(".localhost")) and not settings.WEBHOOK_ALLOW_LOOPBACK:
        raise UnsafeURLError("The URL points to this machine (localhost).")


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
    literal = _literal_address(host)
    if literal is not None:
        _check_addresses(host, [literal])
        return
    _check_hostname(host)
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
    literal = _literal_address(host)
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
