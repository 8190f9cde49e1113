"""The Content-Security-Policy breaks nothing: real Chromium reports no violation on the portal, admin and docs.

A policy that forbids inline scripts and styles is only worth having if the
pages still work under it; the browser itself is the judge of that.
"""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PASSWORD = "csp-browser-passphrase"

if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
    pytest.skip(
        f"Browser tests need Chromium at {CHROMIUM}: install it with `apt-get install chromium` "
        "(or set CHROMIUM_PATH) to run them.",
        allow_module_level=True,
    )
sync_playwright = pytest.importorskip(
    "playwright.sync_api", reason="Browser tests need Playwright: pip install -r requirements-dev.txt"
).sync_playwright

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def page():
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the test's own ORM calls run beside Playwright's loop
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True
            )
            page = browser.new_page()
            page.violations = []
            page.on(
                "console",
                lambda message: "Content Security Policy" in message.text and page.violations.append(message.text),
            )
            yield page
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response.status < 400, (url, response.status)
    page.wait_for_load_state("networkidle")


def test_portal_pages_work_under_the_policy(page, live_server, transactional_db):
    from customers.services import customer_create
    from merchants.services import membership_add, merchant_create

    merchant = merchant_create(name="CSP Bakery")
    membership_add(merchant=merchant, email="owner@csp.example", role="admin", password=PASSWORD)
    customer = customer_create(
        merchant=merchant,
        data={"email": "ada@example.com", "options": {"custom_fields": [{"name": "a", "value": "b"}]}},
    )

    visit(page, f"{live_server.url}/portal/login/")
    page.get_by_label("Email").fill("owner@csp.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")
    for path in (
        "/portal/",
        "/portal/customers/",
        "/portal/customers/new/",
        f"/portal/customers/{customer.pk}/",
        f"/portal/customers/{customer.pk}/edit/",
        "/portal/imports/",
        "/portal/credentials/",
        "/portal/staff/",
        "/portal/webhooks/",
    ):
        visit(page, live_server.url + path)
    # The create form's script adds custom field rows: it must still run.
    visit(page, f"{live_server.url}/portal/customers/new/")
    rows_before = page.locator("[data-cf-rows] [data-cf-row]").count()
    page.get_by_role("button", name="Add a row").click()
    assert page.locator("[data-cf-rows] [data-cf-row]").count() == rows_before + 1
    assert page.url.endswith("/portal/customers/new/")  # added by the script, not by a form round trip

    assert page.violations == []


def test_admin_and_the_api_docs_work_under_the_policy(page, live_server, transactional_db):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("operator", "operator@example.com", PASSWORD)

    visit(page, f"{live_server.url}/admin/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state("networkidle")
    for path in (
        "/admin/",
        "/admin/customers/customer/",
        "/admin/customers/customer/add/",
        "/admin/merchants/merchant/add/",
    ):
        visit(page, live_server.url + path)
    visit(page, f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)

    assert page.violations == []
