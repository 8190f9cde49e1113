"""The portal in real headless Chromium (Debian's package) driven by Playwright, against a live server.

Screenshots of each main page, at desktop and phone widths, go to
test-artifacts/screenshots/ for a reviewer to look at.
"""

import base64
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "browser-test-passphrase"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
    pytest.skip(
        f"Browser tests need Chromium at {CHROMIUM}: install it with `apt-get install chromium` "
        "(or set CHROMIUM_PATH) to run them.",
        allow_module_level=True,
    )
_playwright = pytest.importorskip(
    "playwright.sync_api", reason="Browser tests need Playwright: pip install -r requirements-dev.txt"
)
sync_playwright, expect = _playwright.sync_playwright, _playwright.expect

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still plain synchronous code, so Django's async-safety check must be told so here only.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def portal_admin(transactional_db):
    """A merchant with an admin who logs in with an email and a password, as create_merchant makes them."""
    from merchants.services import membership_add, merchant_create

    merchant = merchant_create(name="Browser Bakery")
    membership_add(merchant=merchant, email="owner@bakery.example", role="admin", password=PASSWORD)
    return merchant


def shoot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/portal/")
    assert "/portal/login/" in page.url
    page.get_by_label("Email").fill("owner@bakery.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/portal/")


def row(page, index: int):
    return page.locator("[data-cf-row]").nth(index)


def test_a_merchant_admin_manages_customers_and_api_credentials_in_a_real_browser(browser, live_server, portal_admin):
    from customers.models import Customer

    context = browser.new_context(viewport=DESKTOP)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.goto(f"{live_server.url}/portal/login/")
    shoot(page, "login-desktop")

    log_in(page, live_server.url)
    assert "Browser Bakery" in page.get_by_test_id("active-merchant").inner_text()
    shoot(page, "home-desktop")

    # Create a customer with two custom fields of different types; the first value is wrong.
    page.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_role("link", name="New customer").click()
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Country").select_option(label="United Kingdom")
    assert page.locator("[data-cf-row]").count() == 2
    row(page, 0).get_by_label("Name").fill("loyalty_tier")
    row(page, 0).get_by_label("Type").select_option("integer")
    row(page, 0).get_by_label("Value").fill("3.5")  # a number input: the API's rule says a whole one
    row(page, 1).get_by_label("Name").fill("birthday")
    row(page, 1).get_by_label("Type").select_option("date")
    row(page, 1).get_by_label("Value").fill("1815-12-10")
    # "Add a row" works in place with JavaScript; a blank extra row is ignored on save.
    page.get_by_role("button", name="Add a row").click()
    assert page.locator("[data-cf-row]").count() == 3
    assert "/customers/new/" in page.url
    page.get_by_role("button", name="Create customer").click()

    # The error sits on the first row, beside its value, and every input is kept.
    assert "Must be an integer, for example 42." in row(page, 0).inner_text()
    assert "Must be an integer" not in row(page, 1).inner_text()
    assert row(page, 0).get_by_label("Value").input_value() == "3.5"
    assert row(page, 1).get_by_label("Value").input_value() == "1815-12-10"
    assert page.get_by_label("Country").input_value() == "GBR"
    assert not Customer.objects.exists()
    shoot(page, "customer-form-error-desktop")

    row(page, 0).get_by_label("Value").fill("3")
    page.get_by_role("button", name="Create customer").click()
    page.wait_for_url("**/portal/customers/*/")
    assert "Customer “Ada Lovelace” created." in page.locator(".messages").inner_text()
    customer = Customer.objects.get()
    assert customer.address_country == "GBR"
    assert [(f.name, f.type, f.value) for f in customer.custom_fields.all()] == [
        ("loyalty_tier", "integer", "3"),
        ("birthday", "date", "1815-12-10"),
    ]
    shoot(page, "customer-detail-desktop")

    # Find the customer through search, then edit it.
    for index in range(3):
        Customer.objects.create(merchant=portal_admin, firstname=f"Other{index}", company="Crumbs Inc")
    page.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_role("searchbox", name="Search").fill("lovelace")
    page.get_by_role("button", name="Search").click()
    results = page.locator("table tbody tr")
    assert results.count() == 1
    shoot(page, "customer-list-search-desktop")
    page.get_by_role("link", name="Ada Lovelace").click()
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Company").fill("Analytical Engines")
    row(page, 1).get_by_role("button", name="Remove").click()
    assert not row(page, 1).is_visible()
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url("**/portal/customers/*/")
    assert "saved" in page.locator(".messages").inner_text()
    assert "Analytical Engines" in page.locator(".details").inner_text()
    customer.refresh_from_db()
    assert customer.company == "Analytical Engines"
    assert list(customer.custom_fields.values_list("name", flat=True)) == ["loyalty_tier"]

    page.get_by_role("link", name="Customers", exact=True).click()
    shoot(page, "customer-list-desktop")

    # Create an API client, copy its secret and use it to get a token.
    page.get_by_role("link", name="API credentials", exact=True).click()
    page.get_by_label("Name").fill("Checkout server")
    page.get_by_role("button", name="Create client").click()
    client_id = page.get_by_test_id("client-id").input_value()
    secret = page.get_by_test_id("client-secret").input_value()
    copy = page.locator("button[data-copy='client-secret']")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    shoot(page, "credentials-created-desktop")

    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    token = context.request.post(
        f"{live_server.url}/o/token/",
        form={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert token.status == 200, token.text()
    created = context.request.post(
        f"{live_server.url}/api/v1/customers",
        data={"firstname": "From the API"},
        headers={"Authorization": f"Bearer {token.json()['access_token']}", "Content-Type": "application/json"},
    )
    assert created.status == 201, created.text()

    page.get_by_role("link", name="I have copied the secret").click()
    shoot(page, "credentials-desktop")
    page.get_by_role("link", name="Staff", exact=True).click()
    shoot(page, "staff-desktop")
    context.close()


@pytest.fixture
def worker(tmp_path):
    """`manage.py worker` as a real process on the test database (tests/worker_process.py)."""
    from tests.worker_process import WorkerProcess

    process = WorkerProcess(tmp_path / "worker.log")
    process.start()
    yield process
    process.kill()


def upload_in_the_portal(page, rows: list[str]) -> None:
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "customers.csv", "mimeType": "text/csv", "buffer": ("\n".join(rows) + "\n").encode()}]
    )
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url("**/portal/imports/*/")


def test_a_csv_import_shows_its_progress_page_then_the_report(browser, live_server, portal_admin, worker):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server.url)
    rows = ["firstname,email,visits:integer"] + [f"P{i},p{i}@example.com,{i}" for i in range(300)] + ["Bad,,many"]

    page.get_by_role("link", name="Import", exact=True).click()
    shoot(page, "import-desktop")
    upload_in_the_portal(page, rows)
    # The status page polls the import's JSON status and shows the report once the worker is done.
    summary = page.get_by_test_id("import-summary")
    summary.wait_for(timeout=60_000)
    assert "300 customers created, 1 row refused." in " ".join(summary.inner_text().split())
    assert "Must be an integer" in page.locator("table").inner_text()
    shoot(page, "import-report-desktop")
    context.close()


def test_an_import_survives_its_worker_killed_with_sigkill_and_the_page_reaches_the_report(
    browser, live_server, portal_admin, worker
):
    from customers.models import Customer, CustomerImport

    total, bad_every = 60_000, 10_000
    rows = ["firstname,email,visits:integer"] + [
        f"P{i},p{i}@example.com,{'many' if i % bad_every == 0 else i}" for i in range(total)
    ]
    good = total - total // bad_every
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server.url)

    upload_in_the_portal(page, rows)
    progress = page.get_by_test_id("import-progress")

    def rows_done() -> int:
        return int(progress.locator("[data-field=rows_done]").inner_text())

    # The page's figures move while the import runs (JSON polling, no reload); kill the worker part way.
    page.wait_for_function(
        "() => { const n = Number(document.querySelector('[data-field=rows_done]')?.textContent);"
        " return n >= 10000 && n < 50000; }",
        timeout=120_000,
    )
    worker.kill()
    shoot(page, "import-progress-desktop")
    killed_at = rows_done()
    assert 0 < killed_at < total
    assert "rows/s" in progress.inner_text()

    worker.start()
    summary = page.get_by_test_id("import-summary")
    summary.wait_for(timeout=180_000)

    assert f"{good} customers created, {total // bad_every} rows refused." in " ".join(summary.inner_text().split())
    job = CustomerImport.objects.with_scopes_disabled().get()
    assert (job.status, job.runs) == ("done", 2)
    assert Customer.objects.with_scopes_disabled().filter(merchant=portal_admin).count() == good
    assert Customer.objects.with_scopes_disabled().values("firstname").distinct().count() == good
    context.close()


@pytest.mark.parametrize("path", ["/portal/", "/portal/customers/", "/portal/customers/new/", "/portal/login/"])
def test_the_main_pages_fit_a_phone_screen(browser, live_server, portal_admin, path):
    from customers.services import customer_create

    customer_create(
        merchant=portal_admin,
        data={"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com", "address_country": "GBR"},
    )
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    if path != "/portal/login/":
        log_in(page, live_server.url)
    page.goto(f"{live_server.url}{path}")

    # Nothing wider than the screen: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    name = path.strip("/").replace("/", "-").replace("portal-", "").replace("portal", "home") or "home"
    shoot(page, f"{name}-phone")
    context.close()
