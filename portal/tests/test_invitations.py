"""Staff invitations: a membership exists for the portal only once the invited person accepts it.

The security report's items 2 and 3: one merchant must never be able to use an
account for another merchant's membership (the invitation-link takeover), nor
add an existing account without its owner's consent, nor tell known emails
from unknown ones by the answer.
"""

import datetime
import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from merchants.models import MerchantMembership, OAuthClient
from portal.access import ACTIVE_MERCHANT_SESSION_KEY
from tests.credentials import USER_PASSWORD
from tests.factories import CustomerFactory, MembershipFactory, MerchantFactory, UserFactory

NEW_PASSWORD = "a long new passphrase"
LINK = re.compile(r'id="invite-link" type="text" readonly value="([^"]+)"')


def invite(admin_client, email: str, role: str = "staff"):
    return admin_client.post("/portal/staff/", {"email": email, "role": role})


def link_of(response) -> str:
    assert response.status_code == 201, (response.status_code, response.content[:300])
    return LINK.search(response.content.decode())[1]


def invited_link(admin_client, email: str, role: str = "staff") -> str:
    return link_of(invite(admin_client, email, role))


def set_password_and_join(client: Client, link: str, password: str = NEW_PASSWORD):
    return client.post(link, {"new_password1": password, "new_password2": password})


def log_in(email: str, password: str, **extra) -> Client:
    client = Client(**extra)
    response = client.post("/portal/login/", {"username": email, "password": password})
    assert response.status_code == 302, "login refused"
    return client


def membership(merchant, email: str) -> MerchantMembership:
    return MerchantMembership.objects.get(merchant=merchant, user__username=email)


# --- the takeover of the report, end to end -------------------------------------------------------------------


def test_merchant_a_cannot_use_an_account_that_merchant_b_invited_too(portal_client_for, merchant, other_merchant):
    a_admin = portal_client_for(merchant, "admin")
    b_admin = portal_client_for(other_merchant, "admin")
    CustomerFactory(merchant=other_merchant, firstname="BertrandSecret")

    # A invites the address first and keeps its link; then B invites the same address.
    a_link = invited_link(a_admin, "newhire@b.example", "admin")
    b_link = invited_link(b_admin, "newhire@b.example", "admin")

    # A's link stopped working when B invited the account, which has never had a password.
    attacker = Client()
    assert "This link no longer works" in attacker.get(a_link).content.decode()
    refused = set_password_and_join(attacker, a_link, "attacker chose this one")
    assert refused.status_code == 404
    user = get_user_model().objects.get(username="newhire@b.example")
    assert not user.has_usable_password()
    login = attacker.post("/portal/login/", {"username": "newhire@b.example", "password": "attacker chose this one"})
    assert login.status_code == 200  # refused
    assert attacker.get("/portal/customers/").status_code == 302  # to the login page

    # The person B hands its link to sets their password and works in B only.
    newhire = Client()
    joined = set_password_and_join(newhire, b_link)
    assert joined.status_code == 302
    home = newhire.get("/portal/").content.decode()
    assert other_merchant.name in home
    assert merchant.name not in home
    assert membership(merchant, "newhire@b.example").accepted_at is None

    # A issues itself a fresh link: the account has a password now, so the link needs its owner logged in.
    again = invited_link(a_admin, "newhire@b.example", "admin")
    anonymous = Client().get(again)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/portal/login/?next=")
    assert set_password_and_join(Client(), again, "attacker chose this one").status_code == 302  # to login
    as_a_admin = a_admin.get(again)
    assert as_a_admin.status_code == 403
    assert "log out first" in as_a_admin.content.decode()
    assert a_admin.post(again).status_code == 403

    # Nothing of B is reachable for A: not the customers, not the API clients, not the account.
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert membership(merchant, "newhire@b.example").accepted_at is None
    assert "BertrandSecret" not in a_admin.get("/portal/customers/").content.decode()
    assert a_admin.post("/portal/switch/", {"merchant": str(other_merchant.pk)}).status_code == 400
    assert not OAuthClient.objects.filter(merchant=other_merchant).exists()


def test_the_link_war_between_two_merchants_never_gives_one_the_others_merchant(
    portal_client_for, merchant, other_merchant
):
    """A re-issues after B: B's link dies and A may then set the password, but B's membership stays out of reach."""
    a_admin = portal_client_for(merchant, "admin")
    b_admin = portal_client_for(other_merchant, "admin")
    invited_link(a_admin, "newhire@b.example")
    b_link = invited_link(b_admin, "newhire@b.example", "admin")
    a_link = invited_link(a_admin, "newhire@b.example")

    assert Client().get(b_link).status_code == 404
    attacker = Client()
    assert set_password_and_join(attacker, a_link, "attacker chose this one").status_code == 302

    # Logged in as the account: only A, where it joined; B is pending and its link is dead.
    html = attacker.get("/portal/").content.decode()
    assert merchant.name in html
    assert other_merchant.name not in html
    assert 'name="merchant"' not in html  # no switcher
    assert attacker.post("/portal/switch/", {"merchant": str(other_merchant.pk)}).status_code == 400
    assert attacker.get(b_link).status_code == 404
    assert attacker.post(b_link).status_code == 404
    assert membership(other_merchant, "newhire@b.example").accepted_at is None
    attacker.post("/portal/credentials/", {"name": "Mine"})
    assert not OAuthClient.objects.filter(merchant=other_merchant).exists()


def test_the_old_set_password_link_is_gone(portal_admin_client):
    invite(portal_admin_client, "new.hire@example.com")
    user = get_user_model().objects.get(username="new.hire@example.com")
    uid = urlsafe_base64_encode(force_bytes(user.pk))

    response = Client().get(f"/portal/set-password/{uid}/{default_token_generator.make_token(user)}/", follow=True)

    assert response.status_code == 404
    user.refresh_from_db()
    assert not user.has_usable_password()


# --- consent and no account enumeration -----------------------------------------------------------------------


def _shape(response, email: str) -> str:
    html = response.content.decode()
    html = LINK.sub('id="invite-link" type="text" readonly value="LINK"', html)
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)
    return html.replace(email, "EMAIL")


def test_inviting_an_existing_account_answers_exactly_like_a_new_email(portal_admin_client, merchant, other_merchant):
    existing = UserFactory(username="Known@Example.com")
    MembershipFactory(merchant=other_merchant, user=existing, role="admin")

    known = invite(portal_admin_client, "known@example.com", "admin")
    unknown = invite(portal_admin_client, "nobody@example.com", "admin")

    assert known.status_code == unknown.status_code == 201
    assert _shape(known, "known@example.com") == _shape(unknown, "nobody@example.com")
    # The address shown is the one typed: the stored spelling would tell the account exists.
    assert "Known@Example.com" not in known.content.decode()
    staff_page = portal_admin_client.get("/portal/staff/").content.decode()
    assert "Known@Example.com" not in staff_page
    assert "known@example.com" in staff_page
    # Nobody's password is touched and nobody got access.
    existing.refresh_from_db()
    assert existing.check_password(USER_PASSWORD)
    assert membership(merchant, "Known@Example.com").accepted_at is None
    assert membership(merchant, "nobody@example.com").accepted_at is None


def test_an_existing_account_is_not_a_member_until_its_owner_accepts(portal_admin_client, merchant, other_merchant):
    """The report's item 3: an admin (even a platform superuser) invited elsewhere keeps working where they were."""
    boss = get_user_model().objects.create_superuser("boss@example.com", "boss@example.com", USER_PASSWORD)
    MembershipFactory(merchant=other_merchant, user=boss, role="admin")
    CustomerFactory(merchant=merchant, firstname="AcmeCustomer")

    invite(portal_admin_client, "boss@example.com", "admin")
    boss_client = log_in("boss@example.com", USER_PASSWORD)

    home = boss_client.get("/portal/").content.decode()
    assert other_merchant.name in home
    assert merchant.name not in home
    assert 'name="merchant"' not in home  # the switcher lists accepted memberships only
    assert boss_client.post("/portal/switch/", {"merchant": str(merchant.pk)}).status_code == 400
    assert "AcmeCustomer" not in boss_client.get("/portal/customers/").content.decode()
    boss_client.post("/portal/customers/new/", {"firstname": "Created by boss"})
    assert not merchant.customers.filter(firstname="Created by boss").exists()


def test_someone_with_only_a_pending_invitation_sees_no_merchant(merchant):
    pending = MembershipFactory(merchant=merchant, role="admin", accepted_at=None)
    client = Client()
    client.force_login(pending.user)

    for path in ("/portal/", "/portal/customers/", "/portal/staff/"):
        response = client.get(path)
        assert response.status_code == 403
        assert "not a member of any active merchant" in response.content.decode()


def test_a_pending_admin_does_not_count_for_the_last_admin_rule(portal_admin_client, merchant):
    invite(portal_admin_client, "second.admin@example.com", "admin")
    me = portal_admin_client.membership

    demote = portal_admin_client.post(f"/portal/staff/{me.pk}/role/", {f"m{me.pk}-role": "staff"})
    leave = portal_admin_client.post(f"/portal/staff/{me.pk}/remove/")

    assert demote.status_code == 400
    assert leave.status_code == 400
    me.refresh_from_db()
    assert me.role == "admin"


# --- accepting ------------------------------------------------------------------------------------------------


def test_a_new_person_sets_a_password_on_the_link_and_is_in(portal_admin_client, merchant):
    link = invited_link(portal_admin_client, "new.hire@example.com", "staff")

    invitee = Client()
    page = invitee.get(link)
    html = page.content.decode()
    assert page.status_code == 200
    assert merchant.name in html
    assert "Staff" in html
    assert 'name="new_password1"' in html

    too_short = set_password_and_join(invitee, link, "short")
    assert too_short.status_code == 400
    assert membership(merchant, "new.hire@example.com").accepted_at is None

    joined = set_password_and_join(invitee, link)
    assert joined.status_code == 302
    assert joined["Location"] == "/portal/"
    assert merchant.name in invitee.get("/portal/").content.decode()
    assert invitee.get("/portal/customers/").status_code == 200
    assert membership(merchant, "new.hire@example.com").accepted_at is not None
    log_in("new.hire@example.com", NEW_PASSWORD)
    # The link works once.
    assert "This link no longer works" in Client().get(link).content.decode()
    assert set_password_and_join(Client(), link, "yet another passphrase").status_code == 404
    assert get_user_model().objects.get(username="new.hire@example.com").check_password(NEW_PASSWORD)


def test_someone_with_an_account_logs_in_then_joins(portal_admin_client, merchant, other_merchant):
    MembershipFactory(merchant=other_merchant, user=UserFactory(username="ada@example.com"))
    link = invited_link(portal_admin_client, "ada@example.com", "admin")
    path = link.removeprefix("http://testserver")

    ada = Client()
    to_login = ada.get(link)
    assert to_login.status_code == 302
    assert to_login["Location"].startswith("/portal/login/?next=")
    logged_in = ada.post(to_login["Location"], {"username": "ada@example.com", "password": USER_PASSWORD})
    assert logged_in["Location"] == path

    page = ada.get(path).content.decode()
    assert "Join Acme Ltd" in page
    assert 'name="new_password1"' not in page
    assert membership(merchant, "ada@example.com").accepted_at is None  # opening the page accepts nothing

    joined = ada.post(path)
    assert joined.status_code == 302
    assert ada.session[ACTIVE_MERCHANT_SESSION_KEY] == str(merchant.pk)
    assert membership(merchant, "ada@example.com").accepted_at is not None
    assert ada.get("/portal/credentials/").status_code == 200  # admin of Acme now
    assert ada.post(path).status_code == 404  # used
    # The password is the one Ada had.
    assert get_user_model().objects.get(username="ada@example.com").check_password(USER_PASSWORD)


def test_logged_in_as_another_account_the_link_says_to_log_out_first(portal_admin_client, portal_client_for, merchant):
    UserFactory(username="ada@example.com")
    link = invited_link(portal_admin_client, "ada@example.com")
    someone_else = portal_client_for(MerchantFactory(), "staff")

    page = someone_else.get(link)
    posted = someone_else.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert page.status_code == 403
    assert "log out first" in page.content.decode()
    assert posted.status_code == 403
    assert membership(merchant, "ada@example.com").accepted_at is None


def test_logged_in_as_another_account_a_new_accounts_link_says_to_log_out_first(
    portal_admin_client, portal_client_for, merchant
):
    link = invited_link(portal_admin_client, "new.hire@example.com")
    someone_else = portal_client_for(MerchantFactory(), "staff")

    posted = set_password_and_join(someone_else, link)

    assert posted.status_code == 403
    assert "log out first" in posted.content.decode()
    assert not get_user_model().objects.get(username="new.hire@example.com").has_usable_password()
    # Still usable by the right person afterwards.
    assert set_password_and_join(Client(), link).status_code == 302


def test_an_expired_link_no_longer_works(portal_admin_client, merchant):
    link = invited_link(portal_admin_client, "new.hire@example.com")
    pending = membership(merchant, "new.hire@example.com")
    timeout = datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    MerchantMembership.objects.filter(pk=pending.pk).update(
        invitation_issued_at=timezone.now() - timeout - datetime.timedelta(seconds=1)
    )

    page = Client().get(link)
    posted = set_password_and_join(Client(), link)

    assert page.status_code == 404
    assert "This link no longer works" in page.content.decode()
    assert posted.status_code == 404
    assert not get_user_model().objects.get(username="new.hire@example.com").has_usable_password()


def test_a_tampered_token_or_another_memberships_id_does_not_work(portal_admin_client, merchant):
    link = invited_link(portal_admin_client, "new.hire@example.com")
    other = invited_link(portal_admin_client, "other.hire@example.com")
    token = link.rstrip("/").rsplit("/", 1)[1]
    other_id = other.rstrip("/").rsplit("/", 2)[1]

    assert Client().get(link[:-2] + "x/").status_code == 404
    assert Client().get(f"/portal/invitations/{other_id}/{token}/").status_code == 404
    assert Client().get("/portal/invitations/999999/abc/").status_code == 404


def test_accepting_one_invitation_accepts_no_other(portal_client_for, merchant, other_merchant):
    UserFactory(username="ada@example.com")
    a_link = invited_link(portal_client_for(merchant, "admin"), "ada@example.com")
    invited_link(portal_client_for(other_merchant, "admin"), "ada@example.com")

    ada = log_in("ada@example.com", USER_PASSWORD)
    ada.post(a_link)

    assert membership(merchant, "ada@example.com").accepted_at is not None
    assert membership(other_merchant, "ada@example.com").accepted_at is None
    assert other_merchant.name not in ada.get("/portal/").content.decode()


def test_an_account_that_has_a_password_keeps_every_merchants_link(portal_client_for, merchant, other_merchant):
    """Only links of accounts that never set a password are cut: the others need the owner's login anyway."""
    UserFactory(username="ada@example.com")
    a_link = invited_link(portal_client_for(merchant, "admin"), "ada@example.com")
    invited_link(portal_client_for(other_merchant, "admin"), "ada@example.com")

    ada = log_in("ada@example.com", USER_PASSWORD)

    assert "Join Acme Ltd" in ada.get(a_link).content.decode()


def test_a_passwordless_account_that_belongs_to_a_merchant_cannot_be_claimed_through_a_link(
    portal_admin_client, merchant, other_merchant
):
    """An operator-made member without a password: a link of another merchant must not hand out that account."""
    user = get_user_model().objects.create_user("nopass@example.com", "nopass@example.com", None)
    MembershipFactory(merchant=other_merchant, user=user, role="admin")
    link = invited_link(portal_admin_client, "nopass@example.com")

    page = Client().get(link)
    posted = set_password_and_join(Client(), link)

    assert page.status_code == 403
    assert posted.status_code == 403
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert membership(merchant, "nopass@example.com").accepted_at is None


# --- the staff page: pending rows, a new link, withdrawing ------------------------------------------------------


def test_pending_invitations_show_on_the_staff_page(portal_admin_client, merchant):
    invite(portal_admin_client, "new.hire@example.com")
    colleague = MembershipFactory(merchant=merchant, user=UserFactory(username="colleague@example.com"))
    pending = membership(merchant, "new.hire@example.com")

    html = portal_admin_client.get("/portal/staff/").content.decode()

    assert html.count("Invited (pending)") == 1
    row = html[html.index("new.hire@example.com") :]
    assert "Invited (pending)" in row[: row.index("</tr>")]
    assert f"/portal/staff/{pending.pk}/invitation/" in html
    assert f"/portal/staff/{colleague.pk}/invitation/" not in html


def test_a_new_link_replaces_the_old_one(portal_admin_client, merchant):
    first = invited_link(portal_admin_client, "new.hire@example.com")
    pending = membership(merchant, "new.hire@example.com")

    second = link_of(portal_admin_client.post(f"/portal/staff/{pending.pk}/invitation/"))

    assert first != second
    assert Client().get(first).status_code == 404
    assert set_password_and_join(Client(), second).status_code == 302


def test_inviting_a_pending_person_again_gives_a_fresh_link_with_the_new_role(portal_admin_client, merchant):
    first = invited_link(portal_admin_client, "new.hire@example.com", "staff")

    second = invited_link(portal_admin_client, "new.hire@example.com", "admin")

    assert Client().get(first).status_code == 404
    assert membership(merchant, "new.hire@example.com").role == "admin"
    assert MerchantMembership.objects.filter(merchant=merchant, user__username="new.hire@example.com").count() == 1
    assert "Admin" in Client().get(second).content.decode()


def test_a_new_link_is_only_for_pending_invitations(portal_admin_client, merchant):
    colleague = MembershipFactory(merchant=merchant)

    response = portal_admin_client.post(f"/portal/staff/{colleague.pk}/invitation/")

    assert response.status_code == 400
    assert "already a member" in response.content.decode()


def test_withdrawing_an_invitation_ends_its_link(portal_admin_client, merchant):
    link = invited_link(portal_admin_client, "new.hire@example.com", "admin")
    pending = membership(merchant, "new.hire@example.com")

    confirm = portal_admin_client.get(f"/portal/staff/{pending.pk}/remove/")
    withdrawn = portal_admin_client.post(f"/portal/staff/{pending.pk}/remove/", follow=True)

    assert "Withdraw the invitation" in confirm.content.decode()
    assert "withdrawn" in withdrawn.content.decode()
    assert not MerchantMembership.objects.filter(pk=pending.pk).exists()
    assert Client().get(link).status_code == 404


def test_staff_members_cannot_issue_links(portal_staff_client, merchant):
    pending = MembershipFactory(merchant=merchant, accepted_at=None)

    assert portal_staff_client.post(f"/portal/staff/{pending.pk}/invitation/").status_code == 403


# --- operators -------------------------------------------------------------------------------------------------


def test_operator_made_memberships_are_accepted_at_once(merchant):
    from merchants.services import membership_add

    made = membership_add(merchant=merchant, email="ops@example.com", role="admin", password="an operator password")

    assert made.accepted_at is not None
    assert merchant.name in log_in("ops@example.com", "an operator password").get("/portal/").content.decode()


def test_django_admin_shows_each_memberships_state(admin_site_client, merchant):
    MembershipFactory(merchant=merchant, user=UserFactory(username="accepted@example.com"))
    MembershipFactory(merchant=merchant, user=UserFactory(username="pending@example.com"), accepted_at=None)

    changelist = admin_site_client.get("/admin/merchants/merchantmembership/").content.decode()
    pending_only = admin_site_client.get("/admin/merchants/merchantmembership/", {"state": "pending"})
    inline = admin_site_client.get(f"/admin/merchants/merchant/{merchant.pk}/change/").content.decode()

    assert "Invited (pending)" in changelist
    assert "Accepted" in changelist
    assert [m.user.username for m in pending_only.context["cl"].result_list] == ["pending@example.com"]
    assert "Invited (pending)" in inline
    assert "invitation_token_hash" not in inline


def test_the_migration_accepts_the_memberships_of_accounts_with_a_password(merchant):
    migration = importlib.import_module("merchants.migrations.0002_membership_invitations")
    with_password = MembershipFactory(merchant=merchant)
    without = MembershipFactory(merchant=merchant, user=get_user_model().objects.create_user("np@example.com"))
    MerchantMembership.objects.update(accepted_at=None)

    migration.accept_existing_memberships(django_apps, None)

    with_password.refresh_from_db()
    without.refresh_from_db()
    assert with_password.accepted_at == with_password.created_at
    # Invited by the old code and never set a password: pending, without a link, until an admin issues one.
    assert without.accepted_at is None


@pytest.mark.parametrize("email", ["new.hire@example.com", "NEW.HIRE@example.com"])
def test_the_invitation_token_is_stored_hashed(portal_admin_client, merchant, email):
    link = invited_link(portal_admin_client, email)
    token = link.rstrip("/").rsplit("/", 1)[1]
    stored = MerchantMembership.objects.get(merchant=merchant, accepted_at__isnull=True)

    assert len(token) >= 40
    assert token not in stored.invitation_token_hash
    assert len(stored.invitation_token_hash) == 64
