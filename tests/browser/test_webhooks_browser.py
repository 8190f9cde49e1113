"""Webhooks in real headless Chromium: add an endpoint, send it a test event, see the answer in its delivery log.

The endpoint is a local receiver (tests/http_receiver.py) on 127.0.0.1, which the SSRF rules
(events/addresses.py) refuse unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is on, as the delivery tests do.
The event goes the normal way: the portal queues it in the outbox, the delivery worker (here
drained in the test's thread, on the live server's database) signs and POSTs it.
"""

import pytest

from events.models import EventDelivery
from events.worker import Worker
from tests.browser import test_portal_browser as portal_walk
from tests.browser.test_portal_browser import DESKTOP, PHONE, expect, log_in, shoot
from tests.test_event_delivery import verify_signature

# The portal walk's fixtures: its Chromium and a merchant whose admin logs in with a password.
browser = portal_walk.browser
portal_admin = portal_walk.portal_admin

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def local_hooks(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.EVENT_DELIVERY_TIMEOUT = 2
    settings.GATEWAY_URL = ""


def test_a_test_webhook_reaches_a_local_receiver_and_shows_in_the_endpoints_log_with_its_response_code(
    browser, live_server, portal_admin, receiver, local_hooks
):
    receiver.respond = lambda request: 202
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server.url)

    page.get_by_role("link", name="Webhooks", exact=True).click()
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("Description").fill("Local receiver")
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.get_by_test_id("webhook-secret").input_value()
    page.get_by_role("link", name="I have copied the secret").click()
    page.get_by_role("link", name="Deliveries").click()
    expect(page.get_by_text("Nothing sent to this endpoint yet.")).to_be_visible()

    page.get_by_role("button", name="Send a test event").click()
    expect(page.get_by_text("Test event queued")).to_be_visible()
    expect(page.get_by_test_id("delivery")).to_have_count(1)
    expect(page.get_by_test_id("delivery")).to_contain_text("Pending")

    Worker().drain()
    page.reload()

    row = page.get_by_test_id("delivery")
    expect(row).to_contain_text("ping")
    expect(row).to_contain_text("Succeeded")
    expect(row.get_by_test_id("response")).to_have_text("HTTP 202")
    [request] = receiver.requests
    assert request.headers["Vault-Event-Type"] == "ping"
    assert verify_signature(secret, request.headers, request.body)
    assert EventDelivery.objects.get().last_status_code == 202
    shoot(page, "webhook-deliveries-desktop")

    page.set_viewport_size(PHONE)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "webhook-deliveries-phone")
    context.close()
