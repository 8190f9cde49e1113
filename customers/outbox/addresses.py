"""Keeps merchants' webhook URLs off the vault's own network (server-side request forgery).

A merchant chooses where the worker POSTs. Without this, a webhook URL could
reach loopback, private, link-local (cloud metadata) or other non-public
addresses of the host running the vault. WEBHOOK_ALLOW_PRIVATE_NETWORKS=1 lifts
the rule for development. The gateway URL is the operator's choice and is not checked.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

LOCAL_NAME_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain")


class PrivateAddress(Exception):
    """The URL's host is, or resolves to, an address that is not public."""


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_url_host(url: str) -> None:
    """Refuse URLs whose host is visibly local: an IP literal that is not public, or a local name.

    Runs at validation time, without DNS. Names are resolved and checked again
    before every delivery (`check_resolved`).
    """
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(LOCAL_NAME_SUFFIXES):
        raise PrivateAddress(f"'{host}' is a local host name.")
    address = _literal(host)
    if address is not None and not _is_public(address):
        raise PrivateAddress(f"{address} is not a public address.")


def check_resolved(url: str) -> None:
    """Resolve the URL's host and refuse it when any of its addresses is not public.

    The HTTP client resolves the name again when it connects, so a DNS answer
    that changes in between is not caught; this stops the plain cases.
    """
    check_url_host(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return  # the HTTP client fails the same way, and the attempt is retried
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not _is_public(address):
            raise PrivateAddress(f"'{host}' resolves to {address}, which is not a public address.")
