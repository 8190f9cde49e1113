"""The accessibility helpers fail when they should: a check that cannot fail proves nothing."""

import os
import shutil

import pytest

from tests.browser.accessibility import assert_fits_width, assert_no_serious_axe_violations

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

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

GOOD_PAGE = """<!doctype html><html lang="en"><head><title>Fine</title></head>
<body><main><h1>Fine</h1><ul><li>One message</li></ul></main></body></html>"""


@pytest.fixture(scope="module")
def page():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser.new_page(viewport={"width": 390, "height": 844})
        browser.close()


def test_a_page_with_no_violation_and_no_overflow_passes_both_checks(page):
    page.set_content(GOOD_PAGE)
    assert_no_serious_axe_violations(page)
    assert_fits_width(page, 390)


def test_a_list_item_outside_a_list_fails_naming_the_rule_the_impact_and_the_element(page):
    page.set_content(GOOD_PAGE.replace("<ul><li>One message</li></ul>", '<div><li class="note">Saved</li></div>'))
    with pytest.raises(AssertionError) as failure:
        assert_no_serious_axe_violations(page)
    assert "listitem (serious) at li: <li> elements must be contained in a <ul> or <ol>" in str(failure.value)


@pytest.mark.parametrize("colour", ["#fff", "#eee"])
def test_white_or_pale_text_on_white_fails_the_contrast_rule(page, colour):
    page.set_content(GOOD_PAGE.replace("<h1>Fine</h1>", f'<p style="color:{colour};background:#fff">Pale</p>'))
    with pytest.raises(AssertionError, match=r"color-contrast \(serious\) at p"):
        assert_no_serious_axe_violations(page)


def test_an_element_wider_than_the_screen_fails_the_width_check(page):
    page.set_content(GOOD_PAGE.replace("<h1>Fine</h1>", '<div class="wide" style="width:450px">Wide</div>'))
    with pytest.raises(AssertionError, match=r"wide at 390px; beyond the edge or overflowing: .*'div\.wide right="):
        assert_fits_width(page, 390)
