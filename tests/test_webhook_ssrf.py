"""Webhook URLs cannot reach the vault's own network: one URL parser, canonical hosts, pinned addresses.

Deliveries go to real HTTP(S) receivers on 127.0.0.1. Only DNS is stubbed (`dns`
fixture, in front of socket.getaddrinfo), to make names answer what a test needs.
"""

import datetime
import ipaddress
import json
import re
import socket
import ssl
from collections import Counter

import pytest
import urllib3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from customers.services import customer_create
from events.models import EventDelivery, WebhookEndpoint
from events.services import webhook_endpoint_create
from events.worker import Worker
from tests.http_receiver import Receiver

API = "/api/v1/webhook-endpoints"
HOOK = "https://hooks.example.com/vault"
REFUSED = "Refused: the URL's host is not a public address."
INVALID = "Refused: the URL is not a valid webhook URL; correct it on the webhook endpoint."
# Globally scoped for ipaddress, yet outside 2000::/3, from which IANA has allocated nothing:
# a "public" address that belongs to no one, so a connection to it goes nowhere.
UNOWNED_PUBLIC_ADDRESS = "4000::1"


def backslash_url(port: int) -> str:
    """The report's URL: urlsplit reads the host example.com, urllib3 (which sends it) 127.0.0.1:port."""
    return f"http://127.0.0.1:{port}\\@example.com/internal-admin"


def post(client, body):
    return client.post(API, json.dumps(body), content_type="application/json")


def url_errors(response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.content
    return [(e["code"], e["message"]) for e in response.json()["errors"] if e["field"] == "url"]


def portal_url_errors(response) -> list[str]:
    block = re.search(r'id="id_url_error">(.*?)</ul>', response.content.decode(), re.S)
    return re.findall(r"<li>(.*?)</li>", block[1]) if block else []


def port_of(receiver: Receiver) -> int:
    return receiver.server.server_address[1]


class StubResolver:
    """socket.getaddrinfo for the names in `answers`; every other name goes to the real resolver.

    answers[name] is a list of answers, one per lookup (the last one repeats), each a list of addresses.
    """

    def __init__(self, real):
        self.real = real
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: Counter[str] = Counter()

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        if host not in self.answers:
            return self.real(host, port, family, type, proto, flags)
        self.lookups[host] += 1
        answers = self.answers[host]
        addresses = answers[min(self.lookups[host], len(answers)) - 1]
        port = int(port or 0)
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (a, port))
            for a in addresses
        ]


@pytest.fixture
def dns(monkeypatch) -> StubResolver:
    stub = StubResolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", stub)
    return stub


@pytest.fixture
def delivery_settings(settings):
    """Webhooks only (gateway deliveries wait), one attempt each, the address rule on."""
    settings.GATEWAY_URL = ""
    settings.EVENT_DELIVERY_BACKOFF_BASE = 0
    settings.EVENT_DELIVERY_MAX_ATTEMPTS = 1
    settings.EVENT_DELIVERY_TIMEOUT = 2
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    return settings


def deliver_one_event(merchant) -> EventDelivery:
    """Record a customer.created event, run the worker, return the webhook delivery as recorded."""
    customer_create(merchant=merchant, data={"firstname": "Ada"})
    Worker().drain()
    return EventDelivery.objects.get(destination=EventDelivery.WEBHOOK)


def stored_endpoint(merchant, url: str) -> WebhookEndpoint:
    """Written directly, past validation: a row saved before these rules, or by another door."""
    return WebhookEndpoint.objects.create(
        merchant=merchant, url=url, enabled_events=["customer.created"], secret="whsec_test"
    )


# --- the backslash: checked as one host, sent to another -------------------------------------------


def test_a_backslash_url_is_refused_when_an_endpoint_is_registered_through_the_api(api_client):
    [(code, message)] = url_errors(post(api_client, {"url": backslash_url(18163)}))

    assert code == "invalid_url"
    assert "backslash" in message
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("method", ["patch", "put"], ids=["patched", "replaced"])
def test_a_backslash_url_is_refused_when_an_endpoint_is_changed_through_the_api(api_client, method):
    created = post(api_client, {"url": HOOK}).json()

    response = getattr(api_client, method)(
        f"{API}/{created['id']}", json.dumps({"url": backslash_url(18163)}), content_type="application/json"
    )

    assert [code for code, _ in url_errors(response)] == ["invalid_url"]
    assert WebhookEndpoint.objects.get(pk=created["id"]).url == HOOK


@pytest.mark.parametrize("form", ["add", "edit"])
def test_a_backslash_url_is_refused_by_the_portals_webhook_form(portal_admin_client, merchant, form):
    fields = {"url": backslash_url(18163), "enabled_events": ["customer.created"], "is_active": "on"}
    if form == "add":
        response = portal_admin_client.post("/portal/webhooks/", fields)
    else:
        endpoint = webhook_endpoint_create(merchant=merchant, data={"url": HOOK})
        response = portal_admin_client.post(f"/portal/webhooks/{endpoint.id}/edit/", fields)

    assert response.status_code == 400
    [message] = portal_url_errors(response)
    assert "backslash" in message
    assert list(WebhookEndpoint.objects.values_list("url", flat=True)) == ([] if form == "add" else [HOOK])


def test_a_backslash_url_saved_before_these_rules_is_never_connected_to(delivery_settings, merchant, receiver, dns):
    dns.answers["example.com"] = [["93.184.215.14"]]  # what the old check looked at: a public name
    stored_endpoint(merchant, backslash_url(port_of(receiver)))

    delivery = deliver_one_event(merchant)

    assert receiver.requests == []
    assert (delivery.status, delivery.last_error) == (EventDelivery.Status.FAILED, INVALID)


@pytest.mark.parametrize(
    "url",
    [
        "http://user:secret@hooks.example.com/vault",
        "http://user@hooks.example.com/vault",
    ],
)
def test_a_url_carrying_a_user_name_or_password_is_refused_and_the_message_says_why(api_client, url):
    [(code, message)] = url_errors(post(api_client, {"url": url}))

    assert code == "invalid_url"
    assert "user name or password" in message
    assert not WebhookEndpoint.objects.exists()


# --- IPv4 addresses inside IPv6 addresses ----------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "[::127.0.0.1]",  # IPv4-compatible, dotted
        "[::7f00:1]",  # IPv4-compatible, hex
        "[::a9fe:a9fe]",  # IPv4-compatible cloud metadata, 169.254.169.254
        "[64:ff9b::127.0.0.1]",  # NAT64 well-known prefix
        "[64:ff9b::a9fe:a9fe]",  # NAT64 of the metadata address
        "[64:ff9b:1::808:808]",  # NAT64 local-use prefix: refused whatever it carries
        "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
        "[2002:a00:1::1]",  # 6to4 of 10.0.0.1
    ],
)
def test_an_ipv6_literal_carrying_a_non_public_ipv4_address_is_refused(api_client, host):
    [(code, _)] = url_errors(post(api_client, {"url": f"http://{host}:8080/hook"}))

    assert code == "private_address"
    assert not WebhookEndpoint.objects.exists()


def test_an_ipv6_literal_carrying_a_private_address_is_refused_at_delivery_too(delivery_settings, merchant, receiver):
    stored_endpoint(merchant, f"http://[::127.0.0.1]:{port_of(receiver)}/events")

    delivery = deliver_one_event(merchant)

    assert (delivery.status, delivery.last_error) == (EventDelivery.Status.FAILED, REFUSED)
    assert receiver.requests == []


# --- IPv4 shorthand the resolver would read as an address ------------------------------------------


@pytest.mark.parametrize("private_networks_allowed", [False, True])
@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "017700000001", "127.1", "0x7f.0.0.1"])
def test_an_ip_address_in_decimal_hex_or_octal_shorthand_is_refused_and_never_connected_to(
    api_client, delivery_settings, merchant, receiver, host, private_networks_allowed
):
    delivery_settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = private_networks_allowed
    url = f"http://{host}:{port_of(receiver)}/events"
    assert [code for code, _ in url_errors(post(api_client, {"url": url}))] == ["invalid_url"]
    stored_endpoint(merchant, url)

    delivery = deliver_one_event(merchant)

    assert receiver.requests == [], "the resolver reads this as 127.0.0.1; it must not be resolved at all"
    assert (delivery.status, delivery.last_error) == (EventDelivery.Status.FAILED, INVALID)


# --- names: resolved once, every address checked, the checked address connected to ----------------


@pytest.mark.parametrize(
    "addresses",
    [
        ["127.0.0.1"],
        ["93.184.215.14", "10.0.0.5"],  # one private address among public ones is enough
        ["64:ff9b::7f00:1"],  # NAT64 of 127.0.0.1
    ],
)
def test_a_host_name_resolving_to_a_private_address_is_refused_at_delivery_without_connecting(
    delivery_settings, merchant, receiver, dns, addresses
):
    port = port_of(receiver)
    dns.answers["hook.example"] = [addresses, ["127.0.0.1"]]
    webhook_endpoint_create(  # accepted: without DNS, nothing tells the name is private
        merchant=merchant, data={"url": f"http://hook.example:{port}/events", "enabled_events": ["customer.created"]}
    )

    delivery = deliver_one_event(merchant)

    assert receiver.requests == []
    assert dns.lookups["hook.example"] == 1
    assert (delivery.status, delivery.last_status_code) == (EventDelivery.Status.FAILED, None)
    assert delivery.last_error == REFUSED


@pytest.mark.parametrize("host", ["127.0.0.1", "internal-admin.example"])
def test_a_refused_deliverys_error_says_nothing_about_the_address_or_what_listens_there(
    delivery_settings, merchant, receiver, dns, host
):
    port = port_of(receiver)
    dns.answers["internal-admin.example"] = [["127.0.0.1"]]
    url = f"http://{host}:{port}/events"
    stored_endpoint(merchant, url)

    delivery = deliver_one_event(merchant)

    assert delivery.last_error == REFUSED
    assert "127.0.0.1" not in delivery.last_error
    assert str(port) not in delivery.last_error
    assert receiver.requests == []


def test_a_name_that_rebinds_to_loopback_after_the_check_is_not_connected_to(
    delivery_settings, merchant, receiver, dns, monkeypatch
):
    # The attacker's DNS answers the check with a public address, and anything later with 127.0.0.1.
    assert ipaddress.ip_address(UNOWNED_PUBLIC_ADDRESS).is_global
    dns.answers["hook.example"] = [[UNOWNED_PUBLIC_ADDRESS], ["127.0.0.1"]]
    stored_endpoint(merchant, f"http://hook.example:{port_of(receiver)}/events")
    # This test sends nothing beyond loopback: a connection to the public address is refused here.
    connected_to = []
    real_create_connection = urllib3.util.connection.create_connection

    def loopback_only(address, *args, **kwargs):
        connected_to.append(address[0])
        if not ipaddress.ip_address(address[0]).is_loopback:
            raise ConnectionRefusedError(111, "Connection refused")
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", loopback_only)

    delivery = deliver_one_event(merchant)

    assert connected_to == [UNOWNED_PUBLIC_ADDRESS], "connected to a second DNS answer instead of the checked one"
    assert receiver.requests == []
    assert dns.lookups["hook.example"] == 1
    assert delivery.status == EventDelivery.Status.FAILED
    assert delivery.last_error.startswith("Connection failed"), delivery.last_error


def test_a_delivery_connects_to_the_address_resolved_for_it_and_sends_the_host_as_written(
    delivery_settings, merchant, receiver, dns
):
    # Private networks allowed, so the check passes on 127.0.0.1: the pinned path is the same one.
    delivery_settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    port = port_of(receiver)
    dns.answers["hook.example"] = [["127.0.0.1"], ["192.0.2.1"]]  # a second lookup would go nowhere
    stored_endpoint(merchant, f"http://hook.example:{port}/events?source=vault")

    delivery = deliver_one_event(merchant)

    assert delivery.status == EventDelivery.Status.SUCCEEDED, delivery.last_error
    [request] = receiver.requests
    assert request.headers["Host"] == f"hook.example:{port}"
    assert request.path == "/events?source=vault"
    assert request.headers["Vault-Event-Type"] == "customer.created"
    assert dns.lookups["hook.example"] == 1


# --- https: the connection is pinned, TLS is still for the name ------------------------------------


def certificate_authority_and_leaf(tmp_path, name: str) -> tuple[str, str, str]:
    """(CA file, leaf certificate file, leaf key file) for a server called `name`."""
    now = datetime.datetime.now(datetime.UTC)

    def build(subject, issuer, public_key, signing_key, *, ca: bool, san: str | None, issuer_key=None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key((issuer_key or signing_key).public_key()),
                critical=False,
            )
            .add_extension(
                x509.KeyUsage(
                    digital_signature=not ca,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=ca,
                    crl_sign=ca,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = build("Test CA", "Test CA", ca_key.public_key(), ca_key, ca=True, san=None)
    leaf = build(name, "Test CA", leaf_key.public_key(), ca_key, ca=False, san=name)
    files = tmp_path / "ca.pem", tmp_path / "leaf.pem", tmp_path / "leaf.key"
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return tuple(str(f) for f in files)


@pytest.fixture
def tls_receiver_for(tmp_path, monkeypatch):
    """tls_receiver_for(certificate_name) -> an HTTPS receiver on 127.0.0.1 whose CA the worker trusts.

    The receiver's `server_names` records the SNI name of each handshake.
    """
    started = []

    def make(certificate_name: str) -> Receiver:
        ca_file, cert_file, key_file = certificate_authority_and_leaf(tmp_path, certificate_name)
        monkeypatch.setattr("events.worker.CA_CERTS", ca_file)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        server = Receiver()
        server.server_names = []
        context.sni_callback = lambda sock, name, ctx: server.server_names.append(name)
        server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
        started.append(server.start())
        return server

    yield make
    for server in started:
        server.stop()


def test_an_https_delivery_to_a_pinned_address_verifies_the_certificate_for_the_urls_host_name(
    delivery_settings, merchant, dns, tls_receiver_for
):
    delivery_settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    receiver = tls_receiver_for("hook.example")
    port = port_of(receiver)
    dns.answers["hook.example"] = [["127.0.0.1"]]
    stored_endpoint(merchant, f"https://hook.example:{port}/events")

    delivery = deliver_one_event(merchant)

    assert delivery.status == EventDelivery.Status.SUCCEEDED, delivery.last_error
    [request] = receiver.requests
    assert request.headers["Host"] == f"hook.example:{port}"
    assert receiver.server_names == ["hook.example"]


def test_an_https_delivery_is_not_sent_when_the_certificate_is_for_another_name(
    delivery_settings, merchant, dns, tls_receiver_for
):
    delivery_settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    receiver = tls_receiver_for("someone-else.example")
    dns.answers["hook.example"] = [["127.0.0.1"]]
    stored_endpoint(merchant, f"https://hook.example:{port_of(receiver)}/events")

    delivery = deliver_one_event(merchant)

    assert receiver.requests == []
    assert delivery.status == EventDelivery.Status.FAILED
    assert delivery.last_error == "Connection failed: the TLS certificate is not valid for this host."
