"""Brute-force protection of /portal/login/ and /admin/login/ (django-axes), the security report's item 5.

Failures are counted per (username, address): guessing from one address locks that
address out of that account only, so the owner elsewhere keeps logging in.
"""

import base64
import datetime
import re
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.management import call_command
from django.test import Client

from tests.credentials import USER_PASSWORD
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"
LIMIT = getattr(settings, "AXES_FAILURE_LIMIT", 5)


def attempt(path: str, username: str, password: str, address: str = ATTACKER):
    return Client(REMOTE_ADDR=address).post(path, {"username": username, "password": password})


def fail(path: str, username: str, times: int, address: str = ATTACKER) -> list[int]:
    return [attempt(path, username, f"wrong guess {n}", address).status_code for n in range(times)]


@pytest.fixture
def member(merchant):
    return MembershipFactory(merchant=merchant, role="admin", user=UserFactory(username="ada@example.com")).user


@pytest.fixture
def operator(db):
    return get_user_model().objects.create_superuser("operator@example.com", "operator@example.com", USER_PASSWORD)


def base_cool_off() -> datetime.timedelta:
    from merchants.login_lockout import base_cool_off

    return base_cool_off()


def rewind_attempts(seconds: float) -> None:
    """Move every recorded failure `seconds` into the past, as if that much time had gone by."""
    from axes.models import AccessAttempt

    for attempt_row in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt_row.pk).update(
            attempt_time=attempt_row.attempt_time - datetime.timedelta(seconds=seconds)
        )


def test_the_failure_limit_is_between_5_and_10():
    assert 5 <= LIMIT <= 10


def test_wrong_passwords_then_the_right_one_is_refused_from_that_address_only(member):
    statuses = fail("/portal/login/", "ada@example.com", LIMIT + 1)
    locked = attempt("/portal/login/", "ada@example.com", USER_PASSWORD)
    elsewhere = attempt("/portal/login/", "ada@example.com", USER_PASSWORD, address=OWNER)

    assert statuses[: LIMIT - 1] == [200] * (LIMIT - 1)  # the form's "Please enter a correct ..." answer
    assert statuses[LIMIT - 1 :] == [429, 429]
    assert locked.status_code == 429
    assert "_auth_user_id" not in locked.client.session
    # The owner, elsewhere, is not locked out by the attacker.
    assert elsewhere.status_code == 302
    assert elsewhere["Location"] == "/portal/"


def test_the_lockout_page_is_a_normal_portal_page(member):
    fail("/portal/login/", "ada@example.com", LIMIT)

    response = attempt("/portal/login/", "ada@example.com", USER_PASSWORD)

    html = response.content.decode()
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert response["Cache-Control"] == "no-store"
    assert "Too many failed log-ins" in html
    assert "Customer&nbsp;Vault" in html  # the portal's header
    assert "Traceback" not in html


def test_locked_out_attempts_never_check_a_password(member):
    fail("/portal/login/", "ada@example.com", LIMIT)

    with mock.patch.object(ModelBackend, "authenticate", autospec=True, return_value=None) as check:
        for _ in range(5):
            assert attempt("/portal/login/", "ada@example.com", USER_PASSWORD).status_code == 429

    check.assert_not_called()


def _page(response, username: str) -> str:
    html = response.content.decode().replace(username, "USERNAME")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)


def test_an_unknown_account_gets_the_same_answers_as_a_known_one(member):
    known = [attempt("/portal/login/", "ada@example.com", "nope") for _ in range(LIMIT + 1)]
    unknown = [attempt("/portal/login/", "nobody@example.com", "nope") for _ in range(LIMIT + 1)]

    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    for known_response, unknown_response in zip(known, unknown, strict=True):
        assert _page(known_response, "ada@example.com") == _page(unknown_response, "nobody@example.com")


def test_a_successful_login_forgets_the_earlier_failures(member):
    fail("/portal/login/", "ada@example.com", LIMIT - 1)
    assert attempt("/portal/login/", "ada@example.com", USER_PASSWORD).status_code == 302

    assert fail("/portal/login/", "ada@example.com", LIMIT - 1) == [200] * (LIMIT - 1)
    assert attempt("/portal/login/", "ada@example.com", USER_PASSWORD).status_code == 302


def test_the_cool_off_grows_with_each_lockout(member):
    base = base_cool_off().total_seconds()
    fail("/portal/login/", "ada@example.com", LIMIT)

    rewind_attempts(base - 5)
    assert attempt("/portal/login/", "ada@example.com", USER_PASSWORD).status_code == 429
    rewind_attempts(10)
    # The first cool-off is over: one more wrong guess locks the address out again, for twice as long.
    assert fail("/portal/login/", "ada@example.com", 1) == [429]
    rewind_attempts(base + 5)
    assert attempt("/portal/login/", "ada@example.com", USER_PASSWORD).status_code == 429
    rewind_attempts(base)
    assert attempt("/portal/login/", "ada@example.com", USER_PASSWORD).status_code == 302


def test_the_cool_off_never_exceeds_the_maximum(member):
    from merchants.login_lockout import cool_off_for_failures, longest_cool_off

    assert cool_off_for_failures(1) == base_cool_off()
    assert cool_off_for_failures(LIMIT) == base_cool_off()
    assert cool_off_for_failures(LIMIT + 1) == 2 * base_cool_off()
    assert cool_off_for_failures(LIMIT + 1000) == longest_cool_off() == datetime.timedelta(hours=24)


def test_failures_below_the_limit_are_forgotten_after_the_base_cool_off(member):
    fail("/portal/login/", "ada@example.com", LIMIT - 1)
    rewind_attempts(base_cool_off().total_seconds() + 1)

    assert fail("/portal/login/", "ada@example.com", LIMIT - 1) == [200] * (LIMIT - 1)


def test_the_admin_login_is_protected_the_same_way(operator):
    statuses = fail("/admin/login/", "operator@example.com", LIMIT + 1)
    locked = attempt("/admin/login/", "operator@example.com", USER_PASSWORD)
    elsewhere = attempt("/admin/login/", "operator@example.com", USER_PASSWORD, address=OWNER)

    assert statuses[: LIMIT - 1] == [200] * (LIMIT - 1)
    assert statuses[LIMIT - 1 :] == [429, 429]
    assert locked.status_code == 429
    assert "Too many failed log-ins" in locked.content.decode()
    assert elsewhere.status_code == 302
    assert elsewhere.client.get("/admin/").status_code == 200


def test_an_operator_unlocks_an_account_in_django_admin(member, admin_site_client):
    from axes.models import AccessAttempt

    fail("/portal/login/", "ada@example.com", LIMIT)
    assert attempt("/portal/login/", "ada@example.com", USER_PASSWORD).status_code == 429
    row = AccessAttempt.objects.get(username="ada@example.com")

    listed = admin_site_client.get("/admin/axes/accessattempt/", {"q": "ada@example.com"})
    deleted = admin_site_client.post(f"/admin/axes/accessattempt/{row.pk}/delete/", {"post": "yes"})

    assert listed.status_code == 200
    assert "ada@example.com" in listed.content.decode()
    assert "Locked out until" in listed.content.decode()
    assert deleted.status_code == 302
    assert attempt("/portal/login/", "ada@example.com", USER_PASSWORD).status_code == 302


def test_an_operator_unlocks_an_account_with_a_command(member):
    fail("/portal/login/", "ada@example.com", LIMIT)

    call_command("axes_reset_username", "ada@example.com", stdout=mock.MagicMock())

    assert attempt("/portal/login/", "ada@example.com", USER_PASSWORD).status_code == 302


def test_padding_the_username_with_spaces_is_the_same_account(member):
    fail("/portal/login/", "  ada@example.com ", LIMIT)

    assert attempt("/portal/login/", "ada@example.com", USER_PASSWORD).status_code == 429


def test_a_very_long_username_is_an_ordinary_failure(db):
    assert fail("/portal/login/", "x" * 300 + "@example.com", 2) == [200, 200]


def test_the_token_endpoint_is_not_touched_by_the_login_lockout(member, issued_client):
    from axes.models import AccessAttempt

    fail("/portal/login/", "ada@example.com", LIMIT)
    for _ in range(3):
        Client(REMOTE_ADDR=ATTACKER).post(
            "/o/token/", {"grant_type": "client_credentials", "client_id": "ada@example.com", "client_secret": "x"}
        )

    assert AccessAttempt.objects.get().failures_since_start == LIMIT  # the token failures were not counted
    # The OAuth client at a locked-out address still gets its token (the endpoint has its own throttle).
    basic = base64.b64encode(f"{issued_client.client.client_id}:{issued_client.client_secret}".encode()).decode()
    token = Client(REMOTE_ADDR=ATTACKER).post(
        "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert token.status_code == 200, token.content
    assert token.json()["access_token"]


def test_the_admins_clean_up_action_keeps_a_current_lockout(member, admin_site_client):
    from axes.models import AccessAttempt

    fail("/portal/login/", "ada@example.com", LIMIT)
    row = AccessAttempt.objects.get()

    cleaned = admin_site_client.post(
        "/admin/axes/accessattempt/", {"action": "cleanup_expired_attempts", "_selected_action": [row.pk]}, follow=True
    )

    assert cleaned.status_code == 200
    assert "Cleaned up 0 expired access attempts." in cleaned.content.decode()
    assert attempt("/portal/login/", "ada@example.com", USER_PASSWORD).status_code == 429


def test_an_address_trying_many_usernames_is_paused_for_all_of_them_but_only_there(member, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 2 * LIMIT
    statuses = [attempt("/portal/login/", f"guess{n}@example.com", "nope").status_code for n in range(2 * LIMIT)]

    assert statuses == [200] * (2 * LIMIT - 1) + [429]  # no username failed LIMIT times

    with mock.patch.object(ModelBackend, "authenticate", autospec=True, return_value=None) as check:
        assert attempt("/portal/login/", "another.guess@example.com", "nope").status_code == 429
    assert attempt("/portal/login/", "ada@example.com", USER_PASSWORD).status_code == 429
    assert attempt("/portal/login/", "ada@example.com", USER_PASSWORD, address=OWNER).status_code == 302
    check.assert_not_called()
    # Over once those failures are older than the base pause.
    rewind_attempts(base_cool_off().total_seconds() + 1)
    assert attempt("/portal/login/", "ada@example.com", USER_PASSWORD).status_code == 302
