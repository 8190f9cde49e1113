"""Account recovery: "Forgot password?" mails a one-time link (Django's own views), for known addresses only,
answering every address alike, and limited per email address and per client address."""

import re

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.credentials import USER_PASSWORD
from tests.factories import MembershipFactory, UserFactory
from tests.jobs import run_jobs

NEW_PASSWORD = "a brand new passphrase"
RESET_LINK = re.compile(r"https?://[^/\s]+(/portal/password-reset/[^/\s]+/[^/\s]+/)")


@pytest.fixture
def member(merchant):
    return MembershipFactory(merchant=merchant, user=UserFactory(username="ada@example.com")).user


def ask_for_link(client: Client, email: str, capture_on_commit):
    with capture_on_commit(execute=True):
        return client.post("/portal/password-reset/", {"email": email})


def mailed_link(to: str) -> str:
    (message,) = [m for m in mail.outbox if m.to == [to]]
    return RESET_LINK.search(message.body)[1]


def choose_password(client: Client, link: str, password: str = NEW_PASSWORD):
    """Follow the mailed link (Django moves the token out of the URL first) and set `password`."""
    page = client.get(link, follow=True)
    assert page.status_code == 200
    assert "Choose a new password" in page.content.decode()
    return client.post(page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})


def logs_in(email: str, password: str) -> bool:
    return Client().post("/portal/login/", {"username": email, "password": password}).status_code == 302


def test_the_login_page_links_to_forgot_password(db):
    html = Client().get("/portal/login/").content.decode()

    assert 'href="/portal/password-reset/"' in html
    assert "Forgot password?" in html


def test_a_member_resets_the_password_by_email_and_logs_in_with_the_new_one(member, django_capture_on_commit_callbacks):
    client = Client()
    asked = ask_for_link(client, "ada@example.com", django_capture_on_commit_callbacks)
    assert asked.status_code == 302
    assert asked["Location"] == "/portal/password-reset/sent/"
    assert mail.outbox == []  # the request sends nothing itself: the worker does

    assert run_jobs() == 1
    (message,) = mail.outbox
    assert message.to == ["ada@example.com"]
    assert message.subject == "Reset your Customer Vault password"
    link = mailed_link("ada@example.com")

    done = choose_password(client, link)

    assert done.status_code == 302
    assert done["Location"] == "/portal/password-reset/done/"
    assert "Log in with it" in client.get(done["Location"]).content.decode()
    assert logs_in("ada@example.com", NEW_PASSWORD)
    assert not logs_in("ada@example.com", USER_PASSWORD)
    # The link works once: the password it was made for has changed.
    used = Client().get(link, follow=True)
    assert used.status_code == 404
    assert "This link no longer works" in used.content.decode()


def test_known_and_unknown_addresses_get_the_same_answer_and_the_same_work(member, django_capture_on_commit_callbacks):
    answers, queries = {}, {}
    for email in ("ada@example.com", "nobody@example.com"):
        with CaptureQueriesContext(connection) as captured:
            answers[email] = ask_for_link(Client(), email, django_capture_on_commit_callbacks)
        queries[email] = len(captured)

    known, unknown = answers["ada@example.com"], answers["nobody@example.com"]
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    # No lookup of the address in the request: the same statements (queue one job) for both.
    assert queries["ada@example.com"] == queries["nobody@example.com"]
    sent = Client().get(known["Location"]).content.decode()
    assert "If that address has an account" in sent

    run_jobs()
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]


def test_the_address_is_matched_whatever_its_case(member, django_capture_on_commit_callbacks):
    ask_for_link(Client(), "ADA@Example.com", django_capture_on_commit_callbacks)
    run_jobs()

    assert [m.to for m in mail.outbox] == [["ada@example.com"]]


def test_a_malformed_address_is_refused_beside_the_input(db):
    response = Client().post("/portal/password-reset/", {"email": "not an email"})

    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()


@pytest.mark.parametrize(
    "account",
    [
        {"is_active": False},
        {"is_staff": True},
        {"is_superuser": True},
    ],
    ids=["inactive", "operator", "superuser"],
)
def test_no_link_is_mailed_to_accounts_that_may_not_reset_by_email(db, account, django_capture_on_commit_callbacks):
    UserFactory(username="ops@example.com", **account)

    response = ask_for_link(Client(), "ops@example.com", django_capture_on_commit_callbacks)
    run_jobs()

    assert response.status_code == 302
    assert mail.outbox == []


def test_a_pending_invitation_gets_no_reset_link_and_a_made_up_one_sets_no_password(
    portal_admin_client, django_capture_on_commit_callbacks
):
    """Its invitation link is the only way to a first password (portal/tests/test_invitations.py)."""
    portal_admin_client.post("/portal/staff/", {"email": "new.hire@example.com", "role": "staff"})
    mail.outbox.clear()
    invitee = get_user_model().objects.get(username="new.hire@example.com")

    ask_for_link(Client(), "new.hire@example.com", django_capture_on_commit_callbacks)
    run_jobs()
    assert mail.outbox == []

    uid = urlsafe_base64_encode(force_bytes(invitee.pk))
    token = default_token_generator.make_token(invitee)
    response = Client().get(f"/portal/password-reset/{uid}/{token}/", follow=True)
    assert response.status_code == 404
    invitee.refresh_from_db()
    assert not invitee.has_usable_password()


def test_a_made_up_or_tampered_link_does_not_work(member):
    uid = urlsafe_base64_encode(force_bytes(member.pk))
    token = default_token_generator.make_token(member)
    someone_else = urlsafe_base64_encode(force_bytes(UserFactory().pk))

    assert Client().get(f"/portal/password-reset/{uid}/{token[:-1]}x/", follow=True).status_code == 404
    assert Client().get(f"/portal/password-reset/{someone_else}/{token}/", follow=True).status_code == 404
    assert Client().get(f"/portal/password-reset/{uid}/{token}/", follow=True).status_code == 200


def test_links_are_limited_per_email_address_known_or_not(member, settings, django_capture_on_commit_callbacks):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 2
    answers = {}
    for email in ("ada@example.com", "nobody@example.com"):
        answers[email] = [ask_for_link(Client(), email, django_capture_on_commit_callbacks) for _ in range(3)]

    for email, responses in answers.items():
        assert [r.status_code for r in responses] == [302, 302, 429], email
    assert answers["ada@example.com"][2].content == answers["nobody@example.com"][2].content
    assert int(answers["ada@example.com"][2]["Retry-After"]) > 0
    assert "Too many requests for a link" in answers["ada@example.com"][2].content.decode()
    run_jobs()
    assert len(mail.outbox) == 2


def test_links_are_limited_per_client_address_over_all_emails(db, settings, django_capture_on_commit_callbacks):
    settings.PASSWORD_RESET_CLIENT_LIMIT = 3
    statuses = [
        ask_for_link(Client(REMOTE_ADDR="203.0.113.9"), f"person{n}@example.com", django_capture_on_commit_callbacks)
        for n in range(4)
    ]
    elsewhere = ask_for_link(
        Client(REMOTE_ADDR="198.51.100.7"), "person9@example.com", django_capture_on_commit_callbacks
    )

    assert [r.status_code for r in statuses] == [302, 302, 302, 429]
    assert elsewhere.status_code == 302


def test_hammering_the_reset_form_never_keeps_the_owner_from_logging_in(
    member, settings, django_capture_on_commit_callbacks
):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 1
    for _ in range(10):
        ask_for_link(Client(REMOTE_ADDR="203.0.113.9"), "ada@example.com", django_capture_on_commit_callbacks)

    assert ask_for_link(Client(), "ada@example.com", django_capture_on_commit_callbacks).status_code == 429
    assert logs_in("ada@example.com", USER_PASSWORD)
    assert not AccessAttempt.objects.exists()


def test_a_new_password_lifts_the_log_in_pause_of_the_account(member, settings, django_capture_on_commit_callbacks):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client().post("/portal/login/", {"username": "ada@example.com", "password": "wrong guess"})
    paused = Client().post("/portal/login/", {"username": "ada@example.com", "password": USER_PASSWORD})
    assert paused.status_code == 429
    assert 'href="/portal/password-reset/"' in paused.content.decode()  # the lock-out page offers the way out

    client = Client()
    ask_for_link(client, "ada@example.com", django_capture_on_commit_callbacks)
    run_jobs()
    choose_password(client, mailed_link("ada@example.com"))

    assert logs_in("ada@example.com", NEW_PASSWORD)


def test_a_wrong_password_says_email_not_username(member):
    response = Client().post("/portal/login/", {"username": "ada@example.com", "password": "wrong"})

    alert = re.search(r'role="alert">(.*?)</div>', response.content.decode(), re.S)[1]
    assert "Please enter a correct email and password." in alert
    assert "username" not in alert
