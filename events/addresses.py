"""Keeps merchants' webhook URLs off the vault's own network (server-side request forgery).

A merchant chooses where the worker POSTs. Without this, a webhook URL could
reach loopback, private, link-local (cloud metadata) or other non-public
addresses of the host running the vault. WEBHOOK_ALLOW_PRIVATE_NETWORKS=1 lifts
the address rule (not the URL syntax rule) for development. The gateway URL is
the operator's choice and is not checked.

Three rules, each closing a way around the one before:

1. One parser. A URL is read with `urllib3.util.parse_url`, the parser of the
   HTTP client that sends the request, and refused when `urllib.parse.urlsplit`
   reads another scheme, host, port or user info out of it, or when it holds
   anything parsers are known to disagree on: a backslash, user info
   (`user:pass@`), whitespace, control or non-ASCII characters. Otherwise
   `http://127.0.0.1:1\\@example.com/` is checked as example.com and sent to 127.0.0.1.
2. Canonical hosts. A host is a DNS name, a dotted-quad IPv4 address or a
   bracketed IPv6 address. Shorthand that the resolver would turn into an address
   (`2130706433`, `0x7f.1`, `017700000001`, `127.1`) is refused as invalid.
3. Public addresses, embedded ones included. IPv6 addresses that carry an IPv4
   address (IPv4-mapped, NAT64, 6to4, Teredo) are public only when the IPv4
   address is; IPv4-compatible (::a.b.c.d, deprecated) and local-use NAT64
   addresses never are. At delivery the name is resolved once, every address
   must be public, and the worker connects to a checked address (`resolve`):
   DNS cannot answer one thing to the check and another to the connection.
"""

import dataclasses
import ipaddress
import re
import socket
from urllib.parse import urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import Url, parse_url

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

LOCAL_NAME_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")
DEFAULT_PORTS = {"http": 80, "https": 443}

# What a delivery refused for its address records. The same words whatever the address was, and the
# worker never connected: the events page must not tell a merchant what answers inside the network.
REFUSED_NOTE = "Refused: the URL's host is not a public address."
INVALID_URL_NOTE = "Refused: the URL is not a valid webhook URL; correct it on the webhook endpoint."

IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated (RFC 4291): never a destination
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are the IPv4 address
NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: local-use translation, any mapping

_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
_VISIBLE_ASCII = re.compile(r"[!-~]*")


class InvalidURL(ValueError):
    """The URL cannot be read the same way by every parser, or its host is not in a canonical form."""


class PrivateAddress(Exception):
    """The URL's host is, or resolves to, an address that is not public."""


@dataclasses.dataclass(frozen=True)
class Destination:
    """A URL as the HTTP client reads it, ready to be sent to a pinned address."""

    scheme: str
    host: str  # lower case; an IPv6 address without brackets; a trailing dot kept
    port: int
    request_target: str  # path and query, as sent on the request line
    address: IPAddress | None  # the host, when it is an IP literal
    auth: str | None = None  # user:password, only in an operator's URL (`parse_operator_url`)

    @property
    def name(self) -> str:
        """The host as TLS (SNI, certificate check) and local-name checks see it: no trailing dot."""
        return self.host.rstrip(".")

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if isinstance(self.address, ipaddress.IPv6Address) else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo (both)."""
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if (address in IPV4_COMPATIBLE and int(address) > 1) or address in NAT64 or address in NAT64_LOCAL:
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]  # :: and ::1 are no IPv4 addresses
    if address.sixtofour is not None:
        return [address.sixtofour]
    return list(address.teredo or ())


def is_public(address: IPAddress) -> bool:
    """Whether `address` is globally reachable unicast, looking inside IPv6 addresses that carry IPv4 ones."""
    if isinstance(address, ipaddress.IPv4Address):
        return address.is_global and not address.is_multicast
    if address.scope_id or address in IPV4_COMPATIBLE or address in NAT64_LOCAL:
        return False  # link-local with a zone; deprecated; local-use NAT64 (maps to anything)
    embedded = embedded_ipv4(address)
    if not all(is_public(ipv4) for ipv4 in embedded):
        return False
    if address.ipv4_mapped is not None or address in NAT64:
        return True  # the prefix only says "IPv4": the packet goes to the (public) IPv4 address
    return address.is_global and not address.is_multicast


def _host_address(host: str) -> IPAddress | None:
    """The IP literal `host` is, None for a DNS name; InvalidURL for anything else."""
    if host.startswith("["):
        try:
            return ipaddress.IPv6Address(host[1:-1])  # a zone (%25eth0) makes it non-public below
        except ValueError:
            raise InvalidURL("Write an IPv6 address in brackets in its usual form, e.g. [2001:db8::1].") from None
    name = host[:-1] if host.endswith(".") else host
    try:
        socket.inet_aton(name)
    except OSError:
        pass
    else:  # an IPv4 address the resolver accepts; only the plain a.b.c.d form is taken as one
        try:
            address = ipaddress.IPv4Address(name)
        except ValueError:
            address = None
        if address is None or str(address) != name or name != host:
            raise InvalidURL("Write an IPv4 address as four decimal numbers, e.g. 203.0.113.7.")
        return address
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidURL("The host must be a DNS name (letters, digits, hyphens), or an IP address.")
    if labels[-1].isdigit() or re.fullmatch(r"0x[0-9a-f]*", labels[-1]):
        raise InvalidURL("The host must be a DNS name (letters, digits, hyphens), or an IP address.")
    return None


def _parse(url: str) -> tuple[Url, Destination]:
    """urllib3's reading of `url` (what the HTTP client would send), and the Destination made of it."""
    try:
        parsed = parse_url(url)
    except LocationParseError:
        raise InvalidURL("Enter a valid http:// or https:// URL.") from None
    scheme = (parsed.scheme or "").lower()
    if scheme not in DEFAULT_PORTS or not parsed.host:
        raise InvalidURL("Enter a valid http:// or https:// URL.")
    if parsed.port == 0:
        raise InvalidURL("Port 0 cannot receive anything; give the receiver's port.")
    host = parsed.host.lower()
    request_target = (parsed.path or "/") + (f"?{parsed.query}" if parsed.query is not None else "")
    destination = Destination(
        scheme=scheme,
        host=host.strip("[]"),
        port=parsed.port or DEFAULT_PORTS[scheme],
        request_target=request_target,
        address=None,
        auth=parsed.auth,
    )
    return parsed, destination


def parse_webhook_url(url: str) -> Destination:
    """A merchant's webhook URL as the HTTP client will send it, or InvalidURL saying what is wrong.

    Checks the syntax only (no DNS, no address rule): see `check_destination` and `resolve`.
    """
    if not isinstance(url, str) or not url:
        raise InvalidURL("Enter a valid http:// or https:// URL.")
    if "\\" in url:
        raise InvalidURL("A URL may not contain a backslash (\\): HTTP clients disagree on what it means.")
    if not _VISIBLE_ASCII.fullmatch(url):
        raise InvalidURL(
            "A URL may not contain spaces, control characters or non-ASCII characters; "
            "write an international domain name in its xn-- form and %-encode the rest."
        )
    if "#" in url:
        raise InvalidURL("No #fragment: it is never sent to the receiver.")
    parsed, destination = _parse(url)
    try:
        split = urlsplit(url)
        split_port = split.port  # ValueError when out of range or not a number
    except ValueError:
        raise InvalidURL("Enter a valid http:// or https:// URL.") from None
    if parsed.auth is not None or "@" in split.netloc:
        raise InvalidURL(
            "A webhook URL may not carry a user name or password (user:pass@...): it would be stored and "
            "shown in the clear. Receivers authenticate events by their Vault-Signature header."
        )
    agrees = (
        split.scheme.lower() == destination.scheme
        and (split.hostname or "") == destination.host
        and (split_port or DEFAULT_PORTS[destination.scheme]) == destination.port
    )
    if not agrees:
        raise InvalidURL("Enter a valid http:// or https:// URL; this one is read differently by different parsers.")
    address = _host_address(parsed.host.lower())
    return dataclasses.replace(destination, address=address)


def parse_operator_url(url: str) -> Destination:
    """The gateway URL (the operator's own setting) as the HTTP client reads it: no syntax or address rules."""
    parsed, destination = _parse(url)
    try:
        address: IPAddress | None = ipaddress.ip_address(destination.host)
    except ValueError:
        address = None
    return dataclasses.replace(destination, address=address)


def _local_name(name: str) -> bool:
    return "." not in name or name == "localhost" or name.endswith(LOCAL_NAME_SUFFIXES)


def check_destination(destination: Destination) -> None:
    """Refuse a host that is visibly not public, without DNS: a non-public IP literal, or a local name.

    Runs when an endpoint is saved, so the merchant hears of it at once. The
    messages name only what the merchant wrote. Names are resolved and checked
    at every delivery (`resolve`).
    """
    address = destination.address
    if address is None:
        if _local_name(destination.name):
            raise PrivateAddress(f"'{destination.name}' is a local host name.")
        return
    if not is_public(address):
        embedded = embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else []
        private = [str(ipv4) for ipv4 in embedded if not is_public(ipv4)]
        if private:
            raise PrivateAddress(f"{address} carries {' and '.join(private)}, which is not a public address.")
        raise PrivateAddress(f"{address} is not a public address.")


def resolve(destination: Destination, *, refuse_private: bool) -> list[str]:
    """The addresses to connect to for `destination`, resolved once; the connection must use one of these.

    With `refuse_private`, PrivateAddress when the host is a local name or ANY
    of its addresses is not public (a name with one private address could be
    answered with it next time). socket.gaierror when the name does not resolve.
    """
    if refuse_private:
        check_destination(destination)
    if destination.address is not None:
        return [str(destination.address)]
    infos = socket.getaddrinfo(destination.name, destination.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses: list[str] = []
    for family, _type, _proto, _canonname, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        text = sockaddr[0]
        if refuse_private:
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                raise PrivateAddress(REFUSED_NOTE) from None
            if not is_public(address):
                raise PrivateAddress(REFUSED_NOTE)
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "no IPv4 or IPv6 address")
    return addresses
