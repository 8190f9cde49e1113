"""API credentials and staff management pages (admin role)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from merchants.models import MerchantMembership, OAuthClient
from merchants.services import oauth_client_create
from tests.credentials import USER_PASSWORD, fetch_token
from tests.factories import MembershipFactory, UserFactory

# --- API credentials ----------------------------------------------------------------------------

ACCESS_RW = OAuthClient.Access.READ_WRITE.value


def shown_credentials(response) -> tuple[str, str]:
    """The client id and secret of the page that shows a secret once."""
    html = response.content.decode()
    client_id = re.search(r'id="client-id" type="text" readonly value="([^"]+)"', html)[1]
    secret = re.search(r'id="client-secret" type="text" readonly value="([^"]+)"', html)[1]
    return client_id, secret


def test_the_credentials_page_lists_only_the_merchants_clients(portal_admin_client, merchant, other_merchant):
    mine = oauth_client_create(merchant=merchant, name="Checkout server").client
    theirs = oauth_client_create(merchant=other_merchant, name="Their server").client

    html = portal_admin_client.get("/portal/credentials/").content.decode()

    assert "Checkout server" in html
    assert mine.client_id in html
    assert "Their server" not in html
    assert theirs.client_id not in html


def test_creating_a_client_shows_its_secret_once_and_the_secret_gets_a_token(portal_admin_client, merchant):
    posted = portal_admin_client.post("/portal/credentials/", {"name": "Checkout server", "access": ACCESS_RW})

    assert posted.status_code == 302
    response = portal_admin_client.get(posted["Location"])
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    client_id, secret = shown_credentials(response)
    client = OAuthClient.objects.get(client_id=client_id)
    assert client.merchant == merchant
    assert client.name == "Checkout server"
    assert secret not in client.client_secret  # stored hashed
    token = fetch_token(client_id, secret)["access_token"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.post("/api/v1/customers", {"firstname": "Ada"}, format="json").status_code == 201
    # Not shown again.
    assert secret not in portal_admin_client.get("/portal/credentials/").content.decode()


def test_revoking_a_client_asks_first_then_its_tokens_stop_working_at_once(portal_admin_client, merchant):
    issued = oauth_client_create(merchant=merchant, name="Old server")
    token = fetch_token(issued.client.client_id, issued.client_secret)["access_token"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/customers/00000000-0000-0000-0000-000000000000").status_code == 404

    confirm = portal_admin_client.get(f"/portal/credentials/{issued.client.pk}/revoke/")
    revoked = portal_admin_client.post(f"/portal/credentials/{issued.client.pk}/revoke/", follow=True)

    assert "every access token issued to it stops working immediately" in confirm.content.decode()
    assert "API client “Old server” revoked" in revoked.content.decode()
    assert not OAuthClient.objects.filter(pk=issued.client.pk).exists()
    assert api.get("/api/v1/customers/00000000-0000-0000-0000-000000000000").status_code == 401


# --- staff --------------------------------------------------------------------------------------


def test_the_staff_page_lists_the_merchants_members_only(portal_admin_client, merchant, other_merchant):
    MembershipFactory(merchant=merchant, user=UserFactory(username="colleague@example.com"), role="staff")
    MembershipFactory(merchant=other_merchant, user=UserFactory(username="stranger@example.com"))

    html = portal_admin_client.get("/portal/staff/").content.decode()

    assert "colleague@example.com" in html
    assert portal_admin_client.user.username in html
    assert "stranger@example.com" not in html


def test_inviting_a_new_person_gives_a_link_where_they_choose_a_password_and_can_log_in(portal_admin_client, merchant):
    response = portal_admin_client.post("/portal/staff/", {"email": "new.hire@example.com", "role": "staff"})

    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    user = get_user_model().objects.get(username="new.hire@example.com")
    assert not user.has_usable_password()
    assert MerchantMembership.objects.get(user=user, merchant=merchant).role == "staff"
    link = re.search(r'id="invite-link" type="text" readonly value="([^"]+)"', response.content.decode())[1]

    invitee = Client()
    form_page = invitee.get(link, follow=True)
    assert "Choose your password" in form_page.content.decode()
    # The form is on the invitation link itself (no redirect to Django's set-password page any more).
    done = invitee.post(
        link,
        {"new_password1": "a long new passphrase", "new_password2": "a long new passphrase"},
    )
    assert done.status_code == 302
    assert (
        invitee.post(
            "/portal/login/", {"username": "new.hire@example.com", "password": "a long new passphrase"}
        ).status_code
        == 302
    )
    assert merchant.name in invitee.get("/portal/").content.decode()
    # The link works once.
    assert "This link no longer works" in Client().get(link, follow=True).content.decode()


def test_inviting_an_existing_user_gives_a_link_and_no_access_and_never_touches_their_password(
    portal_admin_client, merchant
):
    # Was: an existing user was added directly ("is now a member", 302, no link). That let any merchant
    # add any account without consent and told known emails from unknown ones (security report, item 3).
    existing = UserFactory(username="known@example.com")

    response = portal_admin_client.post("/portal/staff/", {"email": "KNOWN@example.com", "role": "admin"}, follow=True)

    assert response.status_code == 201  # as for a new address
    assert "Invitation for KNOWN@example.com (admin) created." in response.content.decode()
    assert "invite-link" in response.content.decode()
    existing.refresh_from_db()
    assert existing.check_password(USER_PASSWORD)
    membership = MerchantMembership.objects.get(user=existing, merchant=merchant)
    assert membership.role == "admin"
    assert membership.accepted_at is None  # no access until they accept


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not an email", "role": "staff"}, "email", "Must be a valid email address."),
        ({"email": "a@example.com", "role": "owner"}, "role", "Must be one of: admin, staff."),
    ],
)
def test_bad_invitations_are_refused_beside_the_input(portal_admin_client, data, field, message):
    response = portal_admin_client.post("/portal/staff/", data)

    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]


def test_inviting_someone_already_a_member_says_so(portal_admin_client):
    response = portal_admin_client.post("/portal/staff/", {"email": portal_admin_client.user.username, "role": "staff"})

    assert response.status_code == 400
    assert response.context["form"].errors["email"] == ["This person is already a member."]
    assert portal_admin_client.membership.__class__.objects.get(pk=portal_admin_client.membership.pk).role == "admin"


def test_an_admin_changes_a_members_role(portal_admin_client, merchant):
    colleague = MembershipFactory(merchant=merchant, role="staff")

    response = portal_admin_client.post(
        f"/portal/staff/{colleague.pk}/role/", {f"m{colleague.pk}-role": "admin"}, follow=True
    )

    colleague.refresh_from_db()
    assert colleague.role == "admin"
    assert "is now admin" in response.content.decode()


def test_the_last_admin_cannot_be_demoted_or_removed(portal_admin_client):
    me = portal_admin_client.membership

    demote = portal_admin_client.post(f"/portal/staff/{me.pk}/role/", {f"m{me.pk}-role": "staff"})
    remove = portal_admin_client.post(f"/portal/staff/{me.pk}/remove/")

    assert demote.status_code == 400
    assert remove.status_code == 400
    assert "keeps at least one admin" in demote.content.decode()
    assert "keeps at least one admin" in remove.content.decode()
    me.refresh_from_db()
    assert me.role == "admin"


def test_removing_a_member_asks_first_and_ends_their_access(portal_admin_client, merchant, portal_client_for):
    colleague_client = portal_client_for(merchant, "staff")
    colleague = colleague_client.membership

    confirm = portal_admin_client.get(f"/portal/staff/{colleague.pk}/remove/")
    removed = portal_admin_client.post(f"/portal/staff/{colleague.pk}/remove/", follow=True)

    assert "They will no longer see anything" in confirm.content.decode()
    assert "no longer has access" in removed.content.decode()
    assert not MerchantMembership.objects.filter(pk=colleague.pk).exists()
    assert get_user_model().objects.filter(pk=colleague.user_id).exists()
    assert colleague_client.get("/portal/customers/").status_code == 403


def test_an_admin_may_leave_when_another_admin_remains(portal_admin_client, merchant):
    MembershipFactory(merchant=merchant, role="admin")
    me = portal_admin_client.membership

    response = portal_admin_client.post(f"/portal/staff/{me.pk}/remove/")

    assert response["Location"] == "/portal/"
    assert portal_admin_client.get("/portal/").status_code == 403
