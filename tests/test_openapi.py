"""The OpenAPI schema (/api/schema/), its committed copy (docs/openapi.yaml) and the docs (/api/docs/)."""

import copy
import io
import json
import re
import shutil
import uuid
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from api.idempotency import idempotency_claim, request_fingerprint
from tests.api_helpers import URL, create, detail_url, send

COMMITTED_SCHEMA = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
REGENERATE = "python manage.py spectacular --file docs/openapi.yaml"
DETAIL = "/api/v1/customers/{customer_id}"
BULK = "/api/v1/customers/bulk"

# Documented statuses of each customer operation: (path, method) -> {status: problem slugs}.
EXPECTED = {
    (URL, "get"): {"200": [], "400": ["validation-error"], "401": ["unauthorized"], "403": ["insufficient-scope"],
                   "429": ["rate-limited"], "500": ["internal-error"]},
    (DETAIL, "get"): {"200": [], "401": ["unauthorized"], "403": ["insufficient-scope"], "404": ["not-found"],
                      "429": ["rate-limited"], "500": ["internal-error"]},
    (URL, "post"): {"201": [], "400": ["validation-error", "malformed-json"], "401": ["unauthorized"],
                    "403": ["insufficient-scope"], "409": ["idempotency-key-in-use", "reference-in-use"],
                    "410": ["customer-erased"], "413": ["payload-too-large"], "415": ["unsupported-media-type"],
                    "422": ["idempotency-key-reused"], "429": ["rate-limited"], "500": ["internal-error"]},
    (DETAIL, "patch"): {"200": [], "400": ["validation-error", "malformed-json"], "401": ["unauthorized"],
                        "403": ["insufficient-scope"], "404": ["not-found"],
                        "409": ["idempotency-key-in-use", "reference-in-use"],
                        "410": ["customer-erased"], "412": ["precondition-failed"], "413": ["payload-too-large"],
                        "415": ["unsupported-media-type"], "422": ["idempotency-key-reused"],
                        "429": ["rate-limited"], "500": ["internal-error"]},
    (DETAIL, "delete"): {"204": [], "400": ["validation-error"], "401": ["unauthorized"],
                         "403": ["insufficient-scope"], "404": ["not-found"], "409": ["idempotency-key-in-use"],
                         "412": ["precondition-failed"], "422": ["idempotency-key-reused"],
                         "429": ["rate-limited"], "500": ["internal-error"]},
    (BULK, "post"): {"207": [], "400": ["validation-error", "malformed-json"], "401": ["unauthorized"],
                     "403": ["insufficient-scope"], "409": ["idempotency-key-in-use"], "413": ["payload-too-large"],
                     "415": ["unsupported-media-type"], "422": ["idempotency-key-reused"],
                     "429": ["rate-limited"], "500": ["internal-error"]},
}  # fmt: skip
EXPECTED[(DETAIL, "put")] = EXPECTED[(DETAIL, "patch")]


@pytest.fixture(scope="module")
def schema() -> dict:
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def _resolve(node, spec):
    """`node` with every local $ref replaced by what it points to (our schemas have no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _resolve(target, spec)
        return {key: _resolve(value, spec) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, spec) for item in node]
    return node


def documented_schema(spec, path, method, status, content_type):
    response = spec["paths"][path][method]["responses"][str(status)]
    return _resolve(response["content"][content_type]["schema"], spec)


def assert_documented(spec, path, method, response) -> None:
    """The response's status is documented for the operation and its body fits the documented schema."""
    responses = spec["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method.upper()} {path} answered undocumented {status}"
    if not response.content:
        assert "content" not in responses[status]
        return
    content_type = response["Content-Type"].split(";")[0]
    assert content_type in responses[status]["content"], (status, content_type)
    body = response.json()
    OAS30Validator(documented_schema(spec, path, method, status, content_type)).validate(body)
    if content_type == "application/problem+json":
        examples = responses[status]["content"][content_type]["examples"].values()
        assert body["type"] in {example["value"]["type"] for example in examples}, body["type"]
    assert "X-Request-ID" in response
    assert "X-Request-ID" in responses[status]["headers"]
    for header in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"):
        # A 413 is refused before the request is read and counted; the schema says so.
        assert (header in response) == (status != "413") == (header in responses[status]["headers"]), header


# --- the schema ------------------------------------------------------------------------------------


def test_the_schema_is_served_as_yaml_and_as_json_without_a_token(db):
    as_yaml = APIClient().get("/api/schema/")
    as_json = APIClient().get("/api/schema/", {"format": "json"})

    assert as_yaml.status_code == as_json.status_code == 200
    assert as_yaml["Content-Type"].startswith("application/vnd.oai.openapi")
    assert as_json["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert yaml.safe_load(as_yaml.content) == json.loads(as_json.content)


def test_the_schema_is_valid_openapi(schema):
    validate(copy.deepcopy(schema))


def test_the_committed_schema_is_valid_and_in_sync_with_the_code(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(generated), stderr=io.StringIO())

    committed = COMMITTED_SCHEMA.read_text()
    validate(yaml.safe_load(committed))
    assert generated.read_text() == committed, f"docs/openapi.yaml is out of date: run `{REGENERATE}`"


def test_every_customer_operation_is_documented_with_its_statuses_and_problem_types(schema):
    for (path, method), statuses in EXPECTED.items():
        operation = schema["paths"][path][method]
        assert operation["summary"]
        assert operation["tags"] == ["customers"]
        assert set(operation["responses"]) == set(statuses), (path, method)
        for status, slugs in statuses.items():
            response = operation["responses"][status]
            assert response["description"] or status.startswith("2")
            if not slugs:
                continue
            problem = response["content"]["application/problem+json"]
            assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}
            assert sorted(e["value"]["type"] for e in problem["examples"].values()) == sorted(
                f"/problems/{slug}" for slug in slugs
            ), (path, method, status)


def test_parameters_are_documented(schema):
    names = {p["name"]: p for p in schema["paths"][URL]["get"]["parameters"]}
    assert set(names) == {
        "limit", "cursor", "email", "q", "company", "reference", "address_country", "created_after",
        "created_before", "custom_fields",
    }  # fmt: skip
    assert names["custom_fields"]["style"] == "deepObject"
    for path, method in [(URL, "post"), (DETAIL, "patch"), (DETAIL, "put"), (DETAIL, "delete"), (BULK, "post")]:
        headers = {p["name"] for p in schema["paths"][path][method]["parameters"] if p["in"] == "header"}
        assert "Idempotency-Key" in headers
        assert ("If-Match" in headers) == (path == DETAIL)


def test_request_bodies_and_success_responses_have_examples(schema):
    for path, method in [(URL, "post"), (DETAIL, "patch"), (DETAIL, "put"), (BULK, "post")]:
        content = schema["paths"][path][method]["requestBody"]["content"]
        expected = ["application/json", "application/merge-patch+json"] if method == "patch" else ["application/json"]
        assert list(content) == expected
        for media in content.values():
            assert media["examples"], (path, method)
    for (path, method), statuses in EXPECTED.items():
        success = next(status for status in statuses if status.startswith("2"))
        if success != "204":
            assert schema["paths"][path][method]["responses"][success]["content"]["application/json"]["examples"]


def test_security_is_oauth2_client_credentials_with_the_two_scopes_or_a_pasted_token(schema):
    schemes = schema["components"]["securitySchemes"]
    flow = schemes["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/o/token/"
    assert set(flow["scopes"]) == {"customers:read", "customers:write"}
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    for (path, method), _ in EXPECTED.items():
        needed = "customers:read" if method == "get" else "customers:write"
        assert schema["paths"][path][method]["security"] == [{"oauth2": [needed]}, {"bearerAuth": []}]


def test_the_token_endpoint_is_documented(schema):
    operation = schema["paths"]["/o/token/"]["post"]
    form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]

    assert form["properties"]["grant_type"]["enum"] == ["client_credentials"]
    assert "scope" in form["properties"]
    assert {"200", "400", "401"} <= set(operation["responses"])


def test_the_token_endpoint_answers_as_documented(schema, merchant):
    from merchants.services import oauth_client_create

    issued = oauth_client_create(merchant=merchant)
    client = APIClient()
    ok = client.post("/o/token/", {"grant_type": "client_credentials", "scope": "customers:read"},
                     HTTP_AUTHORIZATION=_basic(issued.client.client_id, issued.client_secret))  # fmt: skip
    bad_scope = client.post("/o/token/", {"grant_type": "client_credentials", "scope": "admin"},
                            HTTP_AUTHORIZATION=_basic(issued.client.client_id, issued.client_secret))  # fmt: skip
    bad_secret = client.post("/o/token/", {"grant_type": "client_credentials"},
                             HTTP_AUTHORIZATION=_basic(issued.client.client_id, "wrong"))  # fmt: skip

    for response in (ok, bad_scope, bad_secret):
        documented = documented_schema(schema, "/o/token/", "post", response.status_code, "application/json")
        OAS30Validator(documented).validate(response.json())
    assert (ok.status_code, bad_scope.status_code, bad_secret.status_code) == (200, 400, 401)


def _basic(client_id, secret) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


# --- the schema matches real behaviour ----------------------------------------------------------------


def test_real_answers_of_every_operation_fit_the_schema(schema, api_client, api_client_for, merchant, settings):
    customer_id = create(api_client, {"firstname": "Ada", "options": {"custom_fields": [{"name": "t", "value": 1}]}})[
        "customer_id"
    ]
    etag = api_client.get(detail_url(customer_id))["ETag"]
    reader, writer = api_client_for(merchant, "customers:read"), api_client_for(merchant, "customers:write")
    claim_body = {"firstname": "Busy"}
    idempotency_claim(
        merchant=merchant, key="busy", fingerprint=request_fingerprint(method="POST", path=URL, body=claim_body)
    )
    erased = send(api_client, "post", URL, {"firstname": "Gone"}, HTTP_IDEMPOTENCY_KEY="erased")
    api_client.delete(detail_url(erased.json()["customer_id"]))

    calls = [
        (URL, "get", api_client.get(URL)),
        (URL, "get", api_client.get(URL, {"limit": "0"})),
        (URL, "get", APIClient().get(URL)),
        (URL, "get", writer.get(URL)),
        (DETAIL, "get", api_client.get(detail_url(customer_id))),
        (DETAIL, "get", api_client.get(detail_url(uuid.uuid4()))),
        (URL, "post", send(api_client, "post", URL, {"firstname": "Grace"})),
        (URL, "post", send(api_client, "post", URL, {"email": "bad"})),
        (URL, "post", send(api_client, "post", URL, "{")),
        (URL, "post", api_client.post(URL, "x", content_type="text/plain")),
        (URL, "post", send(reader, "post", URL, {"firstname": "Ada"})),
        (URL, "post", send(api_client, "post", URL, claim_body, HTTP_IDEMPOTENCY_KEY="busy")),
        (URL, "post", send(api_client, "post", URL, {"firstname": "Other"}, HTTP_IDEMPOTENCY_KEY="busy")),
        (URL, "post", send(api_client, "post", URL, {"firstname": "Gone"}, HTTP_IDEMPOTENCY_KEY="erased")),
        (URL, "post", send(api_client, "post", URL, {"firstname": "x" * 2_000_000})),
        (DETAIL, "patch", send(api_client, "patch", detail_url(customer_id), {"lastname": "L"}, HTTP_IF_MATCH=etag)),
        (DETAIL, "patch", send(api_client, "patch", detail_url(customer_id), {"lastname": "M"}, HTTP_IF_MATCH=etag)),
        (DETAIL, "put", send(api_client, "put", detail_url(customer_id), {"firstname": "Ada"})),
        (DETAIL, "put", send(api_client, "put", detail_url(uuid.uuid4()), {"firstname": "Ada"})),
        (BULK, "post", send(api_client, "post", BULK, {"customers": [{"firstname": "A"}, {"email": "bad"}]})),
        (BULK, "post", send(api_client, "post", BULK, {"customers": []})),
        (DETAIL, "delete", send(api_client, "delete", detail_url(customer_id), HTTP_IDEMPOTENCY_KEY="")),
        (DETAIL, "delete", send(api_client, "delete", detail_url(customer_id))),
    ]
    settings.API_RATE_LIMIT, settings.API_RATE_LIMIT_WINDOW = 1, 3600
    api_client.get(URL)
    calls.append((URL, "get", api_client.get(URL)))

    seen = set()
    for path, method, response in calls:
        assert_documented(schema, path, method, response)
        seen.add(response.status_code)
    assert seen == {200, 201, 204, 207, 400, 401, 403, 404, 409, 410, 412, 413, 415, 422, 429}


# --- the interactive docs --------------------------------------------------------------------------------


def test_the_docs_page_serves_swagger_ui_from_our_own_static_files(db):
    page = APIClient().get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert not asset.startswith(("http:", "https:", "//")), asset  # no CDN
        if asset.startswith(settings.STATIC_URL) or asset.startswith("/" + settings.STATIC_URL):
            assert finders.find(asset.split(settings.STATIC_URL, 1)[1]), asset
    script = APIClient().get("/api/docs/", {"script": ""})
    assert script.status_code == 200
    assert "/api/schema/" in script.content.decode()


def test_redoc_is_served_from_our_own_static_files_too(db):
    html = APIClient().get("/api/redoc/").content.decode()

    assert "redoc.standalone.js" in html
    assert "cdn" not in html.lower()


def _chromium() -> str:
    chromium = shutil.which("chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("needs playwright (pip install -r requirements-dev.txt)")
    if chromium is None:
        pytest.skip("needs Debian's chromium (apt-get install chromium) for the browser test")
    return chromium


@pytest.fixture
def docs_server(transactional_db):
    """The app on 127.0.0.1:8250 (this suite's own port range), with static files."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("127.0.0.1:8250")
    yield server
    server.stop()


@pytest.mark.slow
@pytest.mark.browser
def test_a_developer_can_paste_a_token_in_the_docs_and_try_a_call(docs_server, token_for):
    from playwright.sync_api import sync_playwright

    from tests.factories import MerchantFactory

    chromium = _chromium()
    token = token_for(MerchantFactory())
    customer_id = create(_bearer(token), {"firstname": "Ada"})["customer_id"]
    # No database access from here on: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            status, body, foreign_hosts = _try_list_in_swagger_ui(browser.new_page(), docs_server.url, token)
        finally:
            browser.close()

    assert status == "200"
    assert customer_id in body
    assert not foreign_hosts


def _try_list_in_swagger_ui(page, base_url: str, token: str) -> tuple[str, str, list[str]]:
    """Paste `token` into Swagger UI's Authorize dialog, execute GET /api/v1/customers; (status, body, hosts)."""
    foreign_hosts = []
    page.on("request", lambda r: None if r.url.startswith(base_url) else foreign_hosts.append(r.url))
    page.goto(f"{base_url}/api/docs/")
    page.wait_for_selector(".opblock", timeout=20_000)
    page.click("button.authorize")
    bearer = page.locator(".modal-ux .auth-container", has_text="bearerAuth")
    bearer.locator("input").fill(token)
    bearer.locator("button.authorize").click()
    page.locator(".modal-ux button.close-modal").click()
    operation = page.locator(".opblock-get", has_text="/api/v1/customers").first
    operation.locator(".opblock-summary").click()
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for(timeout=10_000)
    body = operation.locator(".live-responses-table tbody .response-col_description").first.inner_text()
    return status.inner_text().strip(), body, foreign_hosts


def _bearer(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client
