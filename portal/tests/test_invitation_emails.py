"""Invitations are emailed; an admin re-sends one with a new link, and the earlier link stops working."""

import re
from unittest import mock

from django.core import mail
from django.test import Client

from merchants.models import MerchantMembership
from tests.credentials import USER_PASSWORD
from tests.factories import MembershipFactory, UserFactory

NEW_PASSWORD = "a long new passphrase"
PAGE_LINK = re.compile(r'id="invite-link" type="text" readonly value="([^"]+)"')
MAIL_LINK = re.compile(r"(http://testserver/portal/invitations/\S+)")


def invite(admin_client, email: str, role: str = "staff"):
    return admin_client.post("/portal/staff/", {"email": email, "role": role})


def pending(merchant, email: str) -> MerchantMembership:
    return MerchantMembership.objects.get(merchant=merchant, user__username=email, accepted_at__isnull=True)


def mailed_links(to: str) -> list[str]:
    return [MAIL_LINK.search(m.body)[1] for m in mail.outbox if m.to == [to]]


def join_as_new_person(link: str):
    return Client().post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})


def test_an_invitation_is_emailed_with_the_link_the_admin_sees(portal_admin_client, merchant):
    response = invite(portal_admin_client, "new.hire@example.com")

    assert response.status_code == 201
    (message,) = mail.outbox
    assert message.to == ["new.hire@example.com"]
    assert message.subject == "You are invited to Acme Ltd on Customer Vault"
    assert "as staff" in message.body
    assert mailed_links("new.hire@example.com") == [PAGE_LINK.search(response.content.decode())[1]]
    assert "Invitation emailed to new.hire@example.com" in response.content.decode()


def test_re_sending_an_invitation_mails_a_new_link_and_the_old_one_is_refused(portal_admin_client, merchant):
    invite(portal_admin_client, "new.hire@example.com")
    invitation = pending(merchant, "new.hire@example.com")
    staff_page = portal_admin_client.get("/portal/staff/").content.decode()
    assert "Re-send invitation" in staff_page

    resent = portal_admin_client.post(f"/portal/staff/{invitation.pk}/invitation/")

    assert resent.status_code == 201
    first, second = mailed_links("new.hire@example.com")
    assert first != second
    assert Client().get(first).status_code == 404
    assert join_as_new_person(first).status_code == 404
    assert join_as_new_person(second).status_code == 302
    assert MerchantMembership.objects.get(pk=invitation.pk).accepted_at is not None


def test_inviting_someone_who_lost_the_link_again_mails_a_new_one(portal_admin_client, merchant):
    invite(portal_admin_client, "new.hire@example.com")

    again = invite(portal_admin_client, "new.hire@example.com")

    assert again.status_code == 201
    first, second = mailed_links("new.hire@example.com")
    assert Client().get(first).status_code == 404
    assert join_as_new_person(second).status_code == 302


def test_a_removed_member_invited_again_gets_a_link_and_joins_with_their_password(portal_admin_client, merchant):
    ada = MembershipFactory(merchant=merchant, user=UserFactory(username="ada@example.com"))
    portal_admin_client.post(f"/portal/staff/{ada.pk}/remove/")

    again = invite(portal_admin_client, "ada@example.com")

    assert again.status_code == 201
    (link,) = mailed_links("ada@example.com")
    client = Client()
    assert client.post("/portal/login/", {"username": "ada@example.com", "password": USER_PASSWORD}).status_code == 302
    assert client.post(link).status_code == 302
    assert MerchantMembership.objects.get(merchant=merchant, user__username="ada@example.com").is_accepted


def test_a_new_invitation_defaults_to_the_least_privileged_role(portal_admin_client):
    html = portal_admin_client.get("/portal/staff/").content.decode()

    invite_form = html[html.index("Invite a person") :]
    assert re.search(r'<option value="staff" selected>Staff</option>', invite_form)
    assert '<option value="admin" selected>' not in invite_form


def test_when_the_mail_server_fails_the_admin_still_gets_the_link(portal_admin_client, merchant):
    with mock.patch("merchants.mail.send_mail", side_effect=ConnectionRefusedError("no mail server")):
        response = invite(portal_admin_client, "new.hire@example.com")

    assert response.status_code == 201
    html = response.content.decode()
    assert "The email could not be sent" in html
    link = PAGE_LINK.search(html)[1]
    assert join_as_new_person(link).status_code == 302
