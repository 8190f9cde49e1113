"""The customer list in real headless Chromium: previous pages, page sizes, sorting, bulk export, phone widths.

The browser, the live server's merchant, logging in and the worker process come from test_portal_browser.
"""

import datetime

import pytest

from tests.browser.test_portal_browser import (  # noqa: F401 (fixtures)
    DESKTOP,
    PHONE,
    browser,
    log_in,
    portal_admin,
    shoot,
    worker,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def make_customers(merchant, count: int) -> list:
    """`count` customers named Person000... one second apart (Person000 the oldest), through the service."""
    from customers.models import Customer
    from customers.services import customer_create

    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    customers = []
    for index in range(count):
        customer = customer_create(
            merchant=merchant, data={"firstname": f"Person{index:03d}", "email": f"p{index:03d}@example.com"}
        )
        Customer.objects.with_scopes_disabled().filter(pk=customer.pk).update(
            created_at=start + datetime.timedelta(seconds=index)
        )
        customers.append(customer)
    return customers


def wider_than_the_screen(page) -> list[str]:
    """The elements that reach past the phone's screen (the message of a failed width check)."""
    return page.evaluate(
        "w => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w)"
        ".map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`).slice(0, 20)",
        PHONE["width"],
    )


def navigate(page, link_or_button) -> None:
    """Click, then wait for the next page to load: rows read before that would be the old page's, or none."""
    with page.expect_navigation():
        link_or_button.click()


def names_shown(page) -> list[str]:
    return [text.strip() for text in page.locator("table tbody tr td[data-label=Name]").all_inner_texts()]


def test_previous_page_from_page_three_then_a_bigger_page_then_sorted_by_name(browser, live_server, portal_admin):  # noqa: F811 (fixtures)
    make_customers(portal_admin, 70)
    page = browser.new_context(viewport=DESKTOP).new_page()
    log_in(page, live_server.url)
    navigate(page, page.get_by_role("link", name="Customers", exact=True))
    assert "70 customers" in page.locator("[data-total]").inner_text()
    first = names_shown(page)
    assert first[0] == "Person069"

    navigate(page, page.get_by_role("link", name="Next page"))
    second = names_shown(page)
    navigate(page, page.get_by_role("link", name="Next page"))
    assert names_shown(page) == [f"Person{i:03d}" for i in range(19, -1, -1)]
    shoot(page, "customer-list-page-3-desktop")

    navigate(page, page.get_by_role("link", name="Previous page"))
    assert names_shown(page) == second
    navigate(page, page.get_by_role("link", name="Previous page"))
    assert names_shown(page) == first
    assert page.get_by_role("link", name="Previous page").count() == 0

    page.get_by_label("Per page").select_option("50")
    navigate(page, page.get_by_role("button", name="Search"))
    assert len(names_shown(page)) == 50
    navigate(page, page.get_by_role("link", name="Next page"))
    assert len(names_shown(page)) == 20
    assert "size=50" in page.url

    # By name: last name, then first name; these have first names only, so Person000 comes first.
    from customers.services import customer_create

    customer_create(merchant=portal_admin, data={"firstname": "Ada", "lastname": "Lovelace"})
    customer_create(merchant=portal_admin, data={"company": "Aardvark Ltd"})
    page.get_by_label("Sort").select_option("name")
    navigate(page, page.get_by_role("button", name="Search"))
    assert names_shown(page)[:3] == ["Aardvark Ltd", "Ada Lovelace", "Person000"]
    assert "sort=name" in page.url
    navigate(page, page.get_by_role("link", name="Next page"))
    assert names_shown(page)[0] == "Person048"
    navigate(page, page.get_by_role("link", name="Previous page"))
    assert names_shown(page)[:3] == ["Aardvark Ltd", "Ada Lovelace", "Person000"]
    shoot(page, "customer-list-by-name-desktop")
    page.context.close()


def test_two_selected_customers_are_exported_and_downloaded(browser, live_server, portal_admin, worker):  # noqa: F811 (fixtures)
    customers = make_customers(portal_admin, 5)
    page = browser.new_context(viewport=DESKTOP, accept_downloads=True).new_page()
    log_in(page, live_server.url)
    navigate(page, page.get_by_role("link", name="Customers", exact=True))

    # Select all on the page (JavaScript), then untick all but two.
    select_all = page.get_by_label("Select all on this page")
    select_all.check()
    assert page.locator("input[name=customer_ids]:checked").count() == 5
    select_all.uncheck()
    page.get_by_label("Select Person001").check()
    page.get_by_label("Select Person003").check()
    assert page.evaluate("document.querySelector('[data-select-all]').indeterminate")
    page.get_by_role("button", name="Export selected").click()
    page.wait_for_url("**/portal/exports/*/")

    link = page.get_by_test_id("export-download")
    link.wait_for(timeout=60_000)  # the page polls until the worker has written the file
    assert "2 customers exported." in " ".join(page.get_by_test_id("export-done").inner_text().split())
    with page.expect_download() as download_info:
        link.click()
    path = download_info.value.path()
    lines = open(path, encoding="utf-8-sig").read().splitlines()  # noqa: PTH123, SIM115

    assert len(lines) == 3
    assert lines[1].startswith(str(customers[3].pk))  # newest first, as the list
    assert lines[2].startswith(str(customers[1].pk))
    page.context.close()


@pytest.mark.parametrize("which", ["list", "detail", "import"])
def test_the_list_the_customer_and_the_import_page_fit_a_phone(browser, live_server, portal_admin, which):  # noqa: F811 (fixtures)
    from customers.services import customer_create

    customer = customer_create(
        merchant=portal_admin,
        data={
            "firstname": "Bartholomew-Maximilian",
            "lastname": "Wolfeschlegelsteinhausenberger",
            "email": "bartholomew.maximilian.wolfeschlegelsteinhausenberger@a-very-long-domain-name.example.com",
            "company": "International Consolidated Widgets and Sprockets Incorporated",
            "address_country": "GBR",
            "options": {
                "custom_fields": [
                    {"name": "a_rather_long_custom_field_name_for_testing", "value": "x" * 120},
                    {"name": "homepage", "type": "url", "value": "https://example.com/" + "path/" * 20},
                ]
            },
        },
    )
    make_customers(portal_admin, 3)
    path = {
        "list": "/portal/customers/?size=50&sort=name",
        "detail": f"/portal/customers/{customer.pk}/",
        "import": "/portal/imports/",
    }[which]
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, live_server.url)
    if which == "import":
        # An export listed on the import page too.
        page.goto(f"{live_server.url}/portal/customers/")
        page.get_by_role("button", name="Export CSV").click()
    page.goto(f"{live_server.url}{path}")

    width = page.evaluate("document.documentElement.scrollWidth")
    shoot(page, f"customer-{which}-phone")
    assert width <= PHONE["width"], (width, wider_than_the_screen(page))
    context.close()
