"""Headers that protect personal data in transit and in browsers, and the production settings (OWASP API8).

Every page and endpoint is also checked for `Cache-Control: no-store` by the
permission matrix (test_security_permission_matrix.py), which walks the URL
configuration; these tests pin the exact header values and the deploy check.
"""

from pathlib import Path

import pytest

from tests.factories import CustomerFactory
from tests.jobs import portal_export

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parents[2]
CUSTOMERS = "/api/v1/customers"


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_api_responses_with_customer_data_are_never_stored(api_client):
    created = api_client.post(CUSTOMERS, {"email": "ada@example.com"}, format="json")
    customer_id = created.json()["customer_id"]

    for response in (
        created,
        api_client.get(f"{CUSTOMERS}/{customer_id}"),
        api_client.get(f"{CUSTOMERS}?email=ada@example.com"),
        api_client.patch(f"{CUSTOMERS}/{customer_id}", {"company": "Acme"}, format="json"),
        api_client.post(CUSTOMERS, {"email": "nope"}, format="json"),
        api_client.get(f"{CUSTOMERS}/00000000-0000-4000-8000-000000000000"),
    ):
        assert response["Cache-Control"] == "no-store", response.status_code


def test_an_unauthenticated_api_answer_is_not_stored_either(anonymous_api_client):
    assert anonymous_api_client.get(CUSTOMERS)["Cache-Control"] == "no-store"


def test_the_token_endpoint_answer_is_not_stored(client, issued_client):
    response = client.post(
        "/o/token/",
        {
            "grant_type": "client_credentials",
            "client_id": issued_client.client.client_id,
            "client_secret": issued_client.client_secret,
        },
    )

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_portal_pages_and_the_csv_export_are_never_stored(
    portal_admin_client, merchant, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(merchant=merchant, email="ada@example.com")

    for url in (
        "/portal/",
        "/portal/customers/",
        f"/portal/customers/{customer.pk}/",
        f"/portal/customers/{customer.pk}/edit/",
    ):
        response = portal_admin_client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    download = portal_export(portal_admin_client, django_capture_on_commit_callbacks)
    assert download.status_code == 200
    assert "no-store" in download["Cache-Control"]


def test_the_login_page_and_admin_are_never_stored(client, admin_site_client):
    assert "no-store" in client.get("/portal/login/")["Cache-Control"]
    assert "no-store" in admin_site_client.get("/admin/customers/customer/")["Cache-Control"]


def test_portal_pages_carry_a_content_security_policy_without_inline_scripts(portal_admin_client, merchant):
    response = portal_admin_client.get("/portal/customers/")

    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_api_answers_and_csv_exports_may_load_and_be_framed_by_nothing(
    api_client, portal_admin_client, django_capture_on_commit_callbacks
):
    answers = [
        api_client.post(CUSTOMERS, {"email": "ada@example.com"}, format="json"),
        api_client.get(f"{CUSTOMERS}/00000000-0000-4000-8000-000000000000"),
        portal_export(portal_admin_client, django_capture_on_commit_callbacks),
    ]

    for response in answers:
        assert not response["Content-Type"].startswith("text/html")
        assert csp_directives(response) == {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}


def test_only_the_api_docs_may_use_inline_styles_and_never_inline_scripts(client):
    docs = client.get("/api/docs/")

    assert "'unsafe-inline'" in csp_directives(docs)["style-src"]
    assert csp_directives(docs)["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp_directives(client.get("/portal/login/"))["style-src"]
