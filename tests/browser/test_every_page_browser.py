"""Every page of the portal, in real Chromium at desktop and phone widths: axe-core and the screen's width.

The pages come from portal/urls.py itself: every URL name is either a page in PAGES (with how to build
its arguments from the seeded objects) or a non-page in NOT_PAGES (POST-only actions, JSON, CSV), so a
page added later fails `test_every_portal_url_is_a_page_the_sweep_visits_or_a_checked_non_page` until
the sweep visits it. On each page, and in the states around them (the login page and its error, the 404,
403, 500 and lock-out pages, a form sent back with errors, a saved form's message, a staff member's home):
no serious or critical axe-core violation and nothing wider than the viewport.

`UPDATE_SCREENSHOTS=1` also rewrites the README's screenshots (docs/screenshots/), which are committed;
without it the test never touches them.
"""

import dataclasses
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.urls import URLPattern, reverse

from tests.browser.accessibility import assert_fits_width, assert_no_serious_axe_violations

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PASSWORD = "every-page-passphrase"
ADMIN_EMAIL = "ada@harbour.example"
STAFF_EMAIL = "sam@harbour.example"
NO_MERCHANT_EMAIL = "left@harbour.example"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
README_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
REVIEW_SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots" / "every-page"


@dataclasses.dataclass
class Seed:
    """One of everything the portal's pages show, for one merchant whose admin also belongs to a second one."""

    merchant: object
    customer: object
    running_import: object
    running_export: object
    finished_import: object
    export: object
    client: object
    staff_member: object
    invitation: object  # merchants.services.IssuedInvitation
    endpoint: object
    delivery: object


def no_arguments(seed: Seed) -> dict:
    return {}


def password_reset_link_arguments(user) -> dict:
    """The arguments of the link a password-reset email carries for this user."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    return {"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)}


# Every portal page a GET shows, with the URL arguments that name the seeded objects.
PAGES: dict[str, Callable[[Seed], dict]] = {
    "home": no_arguments,
    "login": no_arguments,
    "password_change": no_arguments,
    "password_change_done": no_arguments,
    "invitation_accept": lambda s: {"membership_pk": s.invitation.membership.pk, "token": s.invitation.token},
    "customer_list": no_arguments,
    "customer_create": no_arguments,
    "customer_detail": lambda s: {"customer_id": s.customer.pk},
    "customer_edit": lambda s: {"customer_id": s.customer.pk},
    "customer_delete": lambda s: {"customer_id": s.customer.pk},
    "customer_events": lambda s: {"customer_id": s.customer.pk},
    "import_upload": no_arguments,
    "import_status": lambda s: {"import_id": s.finished_import.pk},
    "export_status": lambda s: {"export_id": s.export.pk},
    "client_list": no_arguments,
    "client_revoke": lambda s: {"client_pk": s.client.pk},
    "staff_list": no_arguments,
    "staff_remove": lambda s: {"membership_pk": s.staff_member.pk},
    "webhook_list": no_arguments,
    "webhook_edit": lambda s: {"endpoint_id": s.endpoint.pk},
    "webhook_delete": lambda s: {"endpoint_id": s.endpoint.pk},
    "webhook_deliveries": lambda s: {"endpoint_id": s.endpoint.pk},
    "webhook_secret": no_arguments,
    "client_secret": no_arguments,
    "client_roll": lambda s: {"client_pk": s.client.pk},
    "merchant_settings": no_arguments,
    "password_reset": no_arguments,
    "password_reset_done": no_arguments,
    "password_reset_complete": no_arguments,
    "password_reset_confirm": lambda s: password_reset_link_arguments(s.staff_member.user),
}
# The same page in another state, visited too.
MORE_STATES: dict[str, tuple[str, Callable[[Seed], dict]]] = {
    "import_status (running)": ("import_status", lambda s: {"import_id": s.running_import.pk}),
    "export_status (running)": ("export_status", lambda s: {"export_id": s.running_export.pk}),
}
# Pages seen by someone who is not logged in (the invitation is for a person without an account yet).
LOGGED_OUT = {
    "login",
    "invitation_accept",
    "password_reset",
    "password_reset_done",
    "password_reset_complete",
    "password_reset_confirm",
}

POST_ONLY = "POST only"
# URL names that are not pages, with what a GET answers: 405 for actions, else the content type.
NOT_PAGES: dict[str, tuple[str, Callable[[Seed], dict]]] = {
    "logout": (POST_ONLY, no_arguments),
    "switch_merchant": (POST_ONLY, no_arguments),
    "customer_export": (POST_ONLY, no_arguments),
    "import_cancel": (POST_ONLY, lambda s: {"import_id": s.running_import.pk}),
    "staff_role": (POST_ONLY, lambda s: {"membership_pk": s.staff_member.pk}),
    "staff_reinvite": (POST_ONLY, lambda s: {"membership_pk": s.invitation.membership.pk}),
    "customers_selected": (POST_ONLY, no_arguments),
    "customers_selected_delete": (POST_ONLY, no_arguments),
    "webhook_test": (POST_ONLY, lambda s: {"endpoint_id": s.endpoint.pk}),
    "delivery_retry": (POST_ONLY, lambda s: {"delivery_id": s.delivery.pk}),
    "import_errors": ("text/csv", lambda s: {"import_id": s.finished_import.pk}),
    "import_status_json": ("application/json", lambda s: {"import_id": s.running_import.pk}),
    "export_status_json": ("application/json", lambda s: {"export_id": s.export.pk}),
    "export_download": ("text/csv", lambda s: {"export_id": s.export.pk}),
}


def portal_url_names() -> set[str]:
    from portal import urls

    assert all(isinstance(pattern, URLPattern) for pattern in urls.urlpatterns), "walk included URLconfs too"
    return {pattern.name for pattern in urls.urlpatterns}


def url_of(name: str, seed: Seed, arguments: Callable[[Seed], dict]) -> str:
    return reverse(f"portal:{name}", kwargs={key: str(value) for key, value in arguments(seed).items()})


CUSTOMERS = [
    ("Grace", "Hopper", "grace@navy.example", "Compiler Works", "USA"),
    ("Alan", "Turing", "alan@bletchley.example", None, "GBR"),
    ("Katherine", "Johnson", "katherine@nasa.example", "Langley Research", "USA"),
    ("Hedy", "Lamarr", None, "Frequency Hopping GmbH", "AUT"),
    ("Tim", "Berners-Lee", "tim@w3.example", "World Wide Web Consortium", "GBR"),
    ("Margaret", "Hamilton", "margaret@apollo.example", None, "USA"),
    ("Linus", "Torvalds", "linus@kernel.example", None, "FIN"),
]


def seed_portal() -> Seed:
    from audit.models import AuditEntry
    from audit.services import Actor
    from customers.models import CustomerExport, CustomerImport
    from customers.services import customer_create, customer_update
    from events.models import EventDelivery
    from events.services import webhook_endpoint_create
    from merchants.services import membership_add, membership_invite, merchant_create, oauth_client_create

    merchant = merchant_create(name="Harbour Coffee Roasters")
    admin = membership_add(merchant=merchant, email=ADMIN_EMAIL, role="admin", password=PASSWORD)
    in_the_portal = Actor.for_user(admin.user, AuditEntry.Door.PORTAL)
    # A second merchant of the same person: the header shows the merchant switcher.
    membership_add(
        merchant=merchant_create(name="Harbour Tea House and Long-Named Subsidiary of the Roasters International"),
        email=ADMIN_EMAIL,
        role="staff",
    )
    client = oauth_client_create(merchant=merchant, name="Checkout server").client
    endpoint = webhook_endpoint_create(merchant=merchant, data={"url": "https://hooks.harbour.example/vault"})
    for firstname, lastname, email, company, country in CUSTOMERS:
        customer_create(
            merchant=merchant,
            data={
                "firstname": firstname,
                "lastname": lastname,
                "email": email,
                "company": company,
                "address_country": country,
            },
            actor=in_the_portal,
        )
    customer = customer_create(
        merchant=merchant,
        data={
            "firstname": "Ada",
            "lastname": "Lovelace",
            "email": "ada@analytical.example",
            "company": "Analytical Engines Ltd",
            "address_country": "GBR",
            "phone": "020 7946 0958",
            "address": {"line1": "12 St James's Square", "city": "London", "postal_code": "sw1y 4lb"},
            "reference": "crm-1815",
            "options": {
                "custom_fields": [
                    {"name": "loyalty_tier", "type": "integer", "value": "3"},
                    {"name": "birthday", "type": "date", "value": "1815-12-10"},
                    {"name": "newsletter", "type": "boolean", "value": "true"},
                ]
            },
        },
        actor=in_the_portal,
    )
    customer = customer_update(
        customer=customer,
        data={"options": {"custom_fields": [{"name": "loyalty_tier", "type": "integer", "value": "4"}]}},
        actor=Actor.for_client(client),
    )
    export = CustomerExport(merchant=merchant, status=CustomerExport.Status.DONE, rows_total=8, rows_written=8)
    export.file.name = default_storage.save(f"exports/{merchant.pk}/{export.pk}.csv", ContentFile("firstname\r\n"))
    export.save()
    return Seed(
        merchant=merchant,
        customer=customer,
        running_import=CustomerImport.objects.create(
            merchant=merchant,
            filename="spring.csv",
            status=CustomerImport.Status.RUNNING,
            rows_total=900,
            rows_read=300,
        ),
        running_export=CustomerExport.objects.create(
            merchant=merchant, status=CustomerExport.Status.RUNNING, rows_total=8, rows_written=3
        ),
        finished_import=CustomerImport.objects.create(
            merchant=merchant,
            filename="winter.csv",
            status=CustomerImport.Status.DONE,
            rows_total=3,
            rows_read=3,
            created_count=2,
            failed_count=1,
            errors=[{"line": 3, "errors": [{"field": "email", "code": "invalid", "message": "Enter a valid email."}]}],
        ),
        export=export,
        client=client,
        staff_member=membership_add(merchant=merchant, email=STAFF_EMAIL, role="staff", password=PASSWORD),
        invitation=membership_invite(merchant=merchant, email="new.hire@harbour.example", role="staff"),
        endpoint=endpoint,
        delivery=EventDelivery.objects.filter(event__merchant=merchant).first(),
    )


# --- the list of pages is the URL configuration's ---------------------------------------------------------------


def test_every_portal_url_is_a_page_the_sweep_visits_or_a_checked_non_page(db):
    from django.test import Client

    names = portal_url_names()
    assert names - set(PAGES) - set(NOT_PAGES) == set(), "add the new portal URL(s) to PAGES (or NOT_PAGES)"
    assert (set(PAGES) | set(NOT_PAGES)) - names == set(), "remove URL names that no longer exist"
    assert set(PAGES) & set(NOT_PAGES) == set()

    # What NOT_PAGES says of each is true, so a page cannot hide there.
    seed = seed_portal()
    client = Client()
    client.force_login(get_user_model().objects.get(username=ADMIN_EMAIL))
    for name, (answer, arguments) in NOT_PAGES.items():
        response = client.get(url_of(name, seed, arguments))
        if answer == POST_ONLY:
            assert response.status_code == 405, (name, response.status_code)
        else:
            assert response.status_code == 200, (name, response.status_code)
            assert response["Content-Type"].startswith(answer), (name, response["Content-Type"])


# --- every page in Chromium -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(
            f"Browser tests need Chromium at {CHROMIUM}: install it with `apt-get install chromium` "
            "(or set CHROMIUM_PATH) to run them."
        )
    sync_playwright = pytest.importorskip(
        "playwright.sync_api", reason="Browser tests need Playwright: pip install -r requirements-dev.txt"
    ).sync_playwright
    from tests.browser.test_portal_browser import CHROMIUM_ARGS

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are plain sync code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
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


class Sweep:
    """Visits pages in one browser context and collects every failure, so one run lists them all."""

    def __init__(self, page, base_url: str, width: int):
        self.page, self.base_url, self.width = page, base_url, width
        self.failures: list[str] = []

    def goto(self, path: str, *, status: int = 200) -> None:
        response = self.page.goto(self.base_url + path)
        assert response.status == status, (path, response.status)

    def check(self, label: str) -> None:
        """axe-core and the width on the page as it is now; a screenshot of it for review (not committed)."""
        REVIEW_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() else "-" for c in label)
        self.page.screenshot(path=str(REVIEW_SCREENSHOTS / f"{name}-{self.width}.png"), full_page=True)
        try:
            assert_no_serious_axe_violations(self.page)
        except AssertionError as failure:
            self.failures.append(f"{label} at {self.width}px: {failure}")
        try:
            assert_fits_width(self.page, self.width)
        except AssertionError as failure:
            self.failures.append(f"{label} at {self.width}px: {failure}")


def log_in(page, base_url: str, email: str = ADMIN_EMAIL, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/portal/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_portal_page_passes_axe_core_and_fits_the_screen(browser, live_server, transactional_db, viewport):
    seed = seed_portal()
    phone = {"is_mobile": True, "has_touch": True} if viewport is PHONE else {}
    context = browser.new_context(viewport=viewport, **phone)
    sweep = Sweep(context.new_page(), live_server.url, viewport["width"])

    # Logged out: the login page, its error, the 404 page and an invitation link.
    sweep.goto(reverse("portal:login"))
    sweep.check("login")
    log_in(sweep.page, live_server.url, password="not the password")
    sweep.check("login with an error")
    sweep.goto("/portal/no-such-page/", status=404)
    sweep.check("404")
    sweep.page.set_content(render_to_string("500.html"))  # in place, on the live server's origin for its CSS
    sweep.check("500")
    sweep.goto(url_of("invitation_accept", seed, PAGES["invitation_accept"]))
    sweep.check("invitation_accept")

    log_in(sweep.page, live_server.url)
    sweep.page.wait_for_url(f"{live_server.url}/portal/")
    # Two merchants: the header has the switcher, whose text axe-core's contrast rule then checks on every page.
    assert sweep.page.get_by_label("Merchant").input_value() == str(seed.merchant.pk)
    sweep.goto("/portal/customers/not-a-customer/", status=404)
    sweep.check("404 (logged in)")
    visits = {name: (name, arguments) for name, arguments in PAGES.items() if name not in LOGGED_OUT} | MORE_STATES
    for label, (name, arguments) in visits.items():
        sweep.goto(url_of(name, seed, arguments))
        sweep.check(label)
        if label == "customer_list" and viewport is DESKTOP and os.environ.get("UPDATE_SCREENSHOTS") == "1":
            sweep.page.screenshot(path=str(README_SCREENSHOTS / "customer-list.png"))
        if label == "customer_detail" and viewport is DESKTOP and os.environ.get("UPDATE_SCREENSHOTS") == "1":
            sweep.page.screenshot(path=str(README_SCREENSHOTS / "customer-detail.png"), full_page=True)

    # A form sent back with errors beside its inputs, then a saved form and its message.
    sweep.goto(url_of("customer_edit", seed, PAGES["customer_edit"]))
    sweep.page.get_by_label("Email").fill("not an email")
    sweep.page.get_by_role("button", name="Save changes").click()
    sweep.page.locator(".has-error").first.wait_for()
    sweep.check("customer_edit with errors")
    sweep.page.get_by_label("Email").fill("ada@analytical.example")
    sweep.page.get_by_role("button", name="Save changes").click()
    sweep.page.locator(".messages").wait_for()
    sweep.check("customer_detail with a message")

    # Pages a POST answers: the bulk delete's confirmation, and a new client's secret shown once.
    sweep.goto(reverse("portal:customer_list"))
    for box in sweep.page.locator("input[name=customer_ids]").all()[:2]:
        box.check()
    sweep.page.get_by_role("button", name="Delete selected").click()
    sweep.page.wait_for_url("**/customers/selected/")
    sweep.check("customers_selected (delete confirmation)")
    sweep.goto(reverse("portal:client_list"))
    sweep.page.get_by_label("Name").fill("Reporting job")
    sweep.page.get_by_role("button", name="Create client").click()
    sweep.page.wait_for_url("**/credentials/secret/")
    sweep.check("client_secret (with the secret)")
    context.close()

    # The pages only others see: a staff member on an admins' page, an account of no merchant, a lock-out.
    get_user_model().objects.create_user(NO_MERCHANT_EMAIL, NO_MERCHANT_EMAIL, PASSWORD)
    for email, path, label in (
        (STAFF_EMAIL, reverse("portal:client_list"), "403 admins only"),
        (NO_MERCHANT_EMAIL, reverse("portal:home"), "403 no merchant"),
    ):
        context = browser.new_context(viewport=viewport, **phone)
        sweep.page = context.new_page()
        log_in(sweep.page, live_server.url, email=email)
        sweep.page.wait_for_url(f"{live_server.url}/portal/**")
        sweep.goto(path, status=403)
        sweep.check(label)
        if email == STAFF_EMAIL:
            sweep.goto(reverse("portal:home"))
            sweep.check("home (staff)")
        context.close()
    context = browser.new_context(viewport=viewport, **phone)
    sweep.page = context.new_page()
    sweep.goto(reverse("portal:login"))
    sweep.page.set_content(render_to_string("registration/locked_out.html", {"pause": "15 minutes"}))
    sweep.check("locked out")
    context.close()

    assert not sweep.failures, "\n\n".join(sweep.failures)
