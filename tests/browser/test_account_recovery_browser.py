"""Account recovery and invitations in real headless Chromium: the mail is read from django.core.mail.outbox.

The live server (pytest-django's live_server) serves from a thread of this test process and the tests use
Django's in-memory mail backend (config/django/test.py), so what the server mails lands in this process's
outbox. A reset link is mailed by the worker: the test runs the queued job itself (tests.jobs.run_jobs).
"""

import re

from django.core import mail

from tests.browser import test_portal_browser as portal_browser
from tests.jobs import run_jobs

pytestmark = portal_browser.pytestmark

# The browser and the merchant with its admin, from the portal's browser tests.
browser = portal_browser.browser
portal_admin = portal_browser.portal_admin
DESKTOP, PASSWORD, log_in, shoot = (
    portal_browser.DESKTOP,
    portal_browser.PASSWORD,
    portal_browser.log_in,
    portal_browser.shoot,
)

OWNER = "owner@bakery.example"
NEW_PASSWORD = "a fresh browser passphrase"


def link_in(message, path: str) -> str:
    return re.search(rf"(https?://\S+{re.escape(path)}\S+)", message.body)[1]


def test_a_forgotten_password_is_reset_by_email_and_the_new_one_logs_in(browser, live_server, portal_admin):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server.url}/portal/login/")
    page.get_by_role("link", name="Forgot password?").click()
    page.wait_for_url("**/portal/password-reset/")
    page.get_by_label("Email").fill(OWNER)
    page.get_by_role("button", name="Send me a link").click()
    page.wait_for_url("**/portal/password-reset/sent/")
    assert "If that address has an account" in page.locator("main").inner_text()
    shoot(page, "password-reset-sent-desktop")

    assert run_jobs() == 1  # the worker's part: mail the link
    (message,) = mail.outbox
    assert message.to == [OWNER]
    link = link_in(message, "/portal/password-reset/")
    assert link.startswith(live_server.url)

    page.goto(link)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    shoot(page, "password-reset-choose-desktop")
    page.get_by_role("button", name="Set new password").click()
    page.wait_for_url("**/portal/password-reset/done/")
    page.get_by_role("link", name="Log in").click()

    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/portal/")
    assert "Browser Bakery" in page.get_by_test_id("active-merchant").inner_text()

    # The link was good for one reset only.
    page.goto(link)
    assert "This link no longer works" in page.locator("main").inner_text()
    context.close()


def test_an_admin_re_sends_an_invitation_and_the_new_link_joins(browser, live_server, portal_admin):
    admin_context = browser.new_context(viewport=DESKTOP)
    page = admin_context.new_page()
    log_in(page, live_server.url)
    page.get_by_role("link", name="Staff", exact=True).click()
    page.get_by_label("Email").fill("new.baker@bakery.example")
    assert page.get_by_label("Role", exact=True).input_value() == "staff"  # the least privileged by default
    page.get_by_role("button", name="Invite").click()
    assert "Invitation emailed to new.baker@bakery.example" in page.locator("main").inner_text()

    # The invitee lost the email: the admin re-sends it.
    page.get_by_role("link", name="Back to staff").click()
    page.get_by_role("button", name="Re-send invitation").click()
    assert "Invitation emailed to new.baker@bakery.example" in page.locator("main").inner_text()
    shoot(page, "invitation-resent-desktop")
    admin_context.close()

    first, second = (link_in(m, "/portal/invitations/") for m in mail.outbox)
    assert first != second
    invitee = browser.new_context(viewport=DESKTOP)
    page = invitee.new_page()
    page.goto(first)
    assert "This link no longer works" in page.locator("main").inner_text()

    page.goto(second)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and join Browser Bakery").click()
    page.wait_for_url(f"{live_server.url}/portal/")
    assert "You joined Browser Bakery as staff." in page.locator(".messages").inner_text()
    assert "Browser Bakery" in page.get_by_test_id("active-merchant").inner_text()
    invitee.close()
