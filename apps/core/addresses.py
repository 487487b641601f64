"""Which addresses and host names are internal: one table for every URL an integrator gives us.

Webhook URLs (our server connects to them) and redirect targets (the user's
browser follows them, with our signature) must both stay off loopback, private,
link-local, metadata and other non-public addresses. ``apps.webhooks.ssrf``
adds DNS resolution and delivery; ``apps.signing.redirects`` checks literal
addresses and names only, since the browser resolves names itself.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
import unicodedata
from urllib.parse import unquote

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

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
# Special-purpose IPv6 blocks newer than Python 3.11's ipaddress tables, which call them global.
NEWER_NON_GLOBAL_V6 = {
    ipaddress.ip_network("3fff::/20"): "a documentation address",  # RFC 9637
    ipaddress.ip_network("5f00::/16"): "a segment-routing address",  # RFC 9602
}
# inet_aton accepts these legacy spellings of IPv4 (2130706433, 0x7f.1, 0177.0.0.1); treat them as literals.
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)


def address_clean(raw: object) -> str | None:
    """A valid IP address (without an IPv6 zone; an IPv4-mapped IPv6 address as the IPv4 client it is), or None."""
    return _address_clean(raw) if isinstance(raw, str) else None


@functools.lru_cache(maxsize=4096)
def _address_clean(raw: str) -> str | None:
    """``address_clean`` of a string: a pure function, remembered (every API request cleans its client's)."""
    try:
        ip = ipaddress.ip_address(raw.split("%")[0])
    except ValueError:
        return None
    # A dual-stack listener (``-b ::``) sees IPv4 clients as ::ffff:a.b.c.d.
    return str(ip.ipv4_mapped) if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else str(ip)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64 or (ip in IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _special_refusal(ip: IPAddress) -> str | None:
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
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:  # fec0::/10: deprecated (RFC 3879) but still routed inside some networks
            return "a site-local address"
        for network, reason in NEWER_NON_GLOBAL_V6.items():
            if ip in network:
                return reason
    return None


def address_refusal(ip: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why ``ip`` is not a public unicast address (``"a private address"``, ...), or None when it is one."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%")[0])
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            reason = address_refusal(embedded, allow_loopback=allow_loopback)
            if reason:
                return f"{reason} (embedded in {ip})"
            if ip.ipv4_mapped is not None or ip in NAT64:
                return None  # the embedded public IPv4 address is what is actually reached
            if ip in IPV4_COMPATIBLE:
                return "a deprecated IPv4-compatible address"
    if allow_loopback and any(ip in net for net in LOOPBACK_NETWORKS):
        return None
    special = _special_refusal(ip)
    if special:
        return special
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "a non-public address"
    return None


def browser_host(host: str) -> str:
    """``host`` as a browser reads it (the URL Standard's host parser, in short): percent-decoded, full-width
    characters and ideographic full stops folded (full-width ``127`` with U+3002 between the parts), lower case,
    one trailing dot dropped.

    A URL the user's browser opens is judged on this: ``https://127.0.0.1./`` and ``https://127.0.0.%31/`` are
    this machine to a browser, although neither is an address to Python's parsers.
    """
    folded = unicodedata.normalize("NFKC", unquote(host)).replace("\u3002", ".").lower()
    return folded[:-1] if folded.endswith(".") else folded


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` spells (IPv4, IPv6 or a legacy IPv4 form such as ``2130706433``), or None for a name."""
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


def hostname_refusal(host: str, *, allow_loopback: bool = False) -> str | None:
    """Why the name ``host`` is internal (a metadata service, localhost), or None."""
    name = host.rstrip(".").lower()
    if name in METADATA_HOSTNAMES:
        return "a cloud metadata service"
    if (name == "localhost" or name.endswith(".localhost")) and not allow_loopback:
        return "this machine (localhost)"
    return None
