"""Who sees what in the portal: login, membership, roles, the active merchant and other merchants' data."""

import pytest
from django.test import Client

from customers.models import Customer
from merchants.models import MerchantMembership
from merchants.services import oauth_client_create
from portal.access import ACTIVE_MERCHANT_SESSION_KEY
from tests.credentials import USER_PASSWORD
from tests.factories import CustomerFactory, MembershipFactory, MerchantFactory, UserFactory

MEMBER_PAGES = ["/portal/", "/portal/customers/", "/portal/customers/new/", "/portal/imports/", "/portal/password/"]
ADMIN_PAGES = ["/portal/credentials/", "/portal/staff/"]


def test_the_login_page_has_labelled_email_and_password_inputs(client):
    response = client.get("/portal/login/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">Email</label>' in html
    assert '<label for="id_password">Password:</label>' in html or '<label for="id_password">Password</label>' in html
    assert "csrfmiddlewaretoken" in html


def test_a_member_logs_in_with_email_and_password_and_lands_on_the_portal_home(merchant):
    membership = MembershipFactory(merchant=merchant, role="admin", user=UserFactory(username="ada@example.com"))
    client = Client(enforce_csrf_checks=True)
    page = client.get("/portal/login/")
    token = page.cookies["csrftoken"].value

    response = client.post(
        "/portal/login/",
        {"username": "ada@example.com", "password": USER_PASSWORD, "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    home = client.get("/portal/")
    assert home.status_code == 200
    assert membership.merchant.name in home.content.decode()


def test_a_wrong_password_is_refused_with_a_message(merchant):
    MembershipFactory(merchant=merchant, user=UserFactory(username="ada@example.com"))

    response = Client().post("/portal/login/", {"username": "ada@example.com", "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct" in response.content.decode()


def test_a_form_posted_without_a_csrf_token_is_refused(merchant):
    client = Client(enforce_csrf_checks=True)
    membership = MembershipFactory(merchant=merchant)
    client.force_login(membership.user)

    response = client.post("/portal/customers/new/", {"firstname": "Ada"})

    assert response.status_code == 403
    assert not Customer.objects.exists()


@pytest.mark.parametrize("path", MEMBER_PAGES + ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/portal/login/?next=")


def test_an_anonymous_export_request_is_sent_to_the_login_page_and_starts_nothing(client, db):
    from customers.models import CustomerExport

    response = client.post("/portal/customers/export/")

    assert response.status_code == 302
    assert response["Location"].startswith("/portal/login/?next=")
    assert not CustomerExport.objects.exists()


@pytest.mark.parametrize("path", MEMBER_PAGES[:-1] + ADMIN_PAGES)
def test_a_user_who_is_a_member_of_no_merchant_sees_nothing(portal_outsider_client, path, merchant):
    CustomerFactory(merchant=merchant, firstname="Secret")

    response = portal_outsider_client.get(path)

    assert response.status_code == 403
    assert "not a member of any active merchant" in response.content.decode()
    assert "Secret" not in response.content.decode()


def test_members_of_a_deactivated_merchant_see_nothing(portal_admin_client, merchant):
    merchant.is_active = False
    merchant.save()

    assert portal_admin_client.get("/portal/customers/").status_code == 403


@pytest.mark.parametrize("path", MEMBER_PAGES)
def test_staff_members_can_use_the_customer_pages(portal_staff_client, path):
    assert portal_staff_client.get(path).status_code == 200


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_staff_members_cannot_open_credentials_or_staff_pages(portal_staff_client, path):
    response = portal_staff_client.get(path)

    assert response.status_code == 403
    assert "Admins only" in response.content.decode()


def test_staff_members_cannot_create_or_revoke_api_clients_or_change_staff(portal_staff_client, merchant):
    issued = oauth_client_create(merchant=merchant)
    other = MembershipFactory(merchant=merchant, role="admin")

    assert portal_staff_client.post("/portal/credentials/", {"name": "x"}).status_code == 403
    assert portal_staff_client.post(f"/portal/credentials/{issued.client.pk}/revoke/").status_code == 403
    assert portal_staff_client.post("/portal/staff/", {"email": "new@example.com", "role": "admin"}).status_code == 403
    assert (
        portal_staff_client.post(f"/portal/staff/{other.pk}/role/", {f"m{other.pk}-role": "staff"}).status_code == 403
    )
    assert portal_staff_client.post(f"/portal/staff/{other.pk}/remove/").status_code == 403
    assert merchant.oauth_clients.count() == 1
    assert MerchantMembership.objects.filter(merchant=merchant).count() == 2
    other.refresh_from_db()
    assert other.role == "admin"


@pytest.mark.parametrize("path", MEMBER_PAGES[:-1] + ADMIN_PAGES)
def test_every_page_shows_the_active_merchant(portal_admin_client, merchant, path):
    html = portal_admin_client.get(path).content.decode()

    assert 'data-testid="active-merchant"' in html
    assert merchant.name in html


@pytest.mark.parametrize("suffix", ["", "edit/", "delete/"])
def test_another_merchants_customer_is_a_404_even_for_an_admin_of_both(
    portal_admin_client, merchant, other_merchant, suffix
):
    # The user is an admin of the other merchant too; only the active merchant counts.
    MembershipFactory(merchant=other_merchant, user=portal_admin_client.user, role="admin")
    theirs = CustomerFactory(merchant=other_merchant, firstname="Theirs")
    session = portal_admin_client.session
    session[ACTIVE_MERCHANT_SESSION_KEY] = str(merchant.pk)
    session.save()

    get = portal_admin_client.get(f"/portal/customers/{theirs.pk}/{suffix}")
    post = portal_admin_client.post(f"/portal/customers/{theirs.pk}/{suffix}", {"firstname": "Hijack"})

    assert get.status_code == 404
    assert post.status_code == 404
    theirs.refresh_from_db()
    assert theirs.firstname == "Theirs"
    assert Customer.objects.filter(pk=theirs.pk).exists()


def test_a_malformed_customer_id_is_a_404(portal_admin_client):
    assert portal_admin_client.get("/portal/customers/not-a-uuid/").status_code == 404


def test_another_merchants_api_client_and_member_are_404s(portal_admin_client, other_merchant):
    theirs = oauth_client_create(merchant=other_merchant).client
    their_member = MembershipFactory(merchant=other_merchant, role="admin")

    assert portal_admin_client.get(f"/portal/credentials/{theirs.pk}/revoke/").status_code == 404
    assert portal_admin_client.post(f"/portal/credentials/{theirs.pk}/revoke/").status_code == 404
    assert portal_admin_client.post(f"/portal/staff/{their_member.pk}/remove/").status_code == 404
    assert (
        portal_admin_client.post(
            f"/portal/staff/{their_member.pk}/role/", {f"m{their_member.pk}-role": "staff"}
        ).status_code
        == 404
    )
    assert other_merchant.oauth_clients.filter(pk=theirs.pk).exists()
    their_member.refresh_from_db()
    assert their_member.role == "admin"


def test_a_member_of_two_merchants_switches_between_them(portal_staff_client, merchant):
    second = MerchantFactory(name="Second Shop")
    MembershipFactory(merchant=second, user=portal_staff_client.user, role="admin")
    CustomerFactory(merchant=merchant, firstname="FirstShopCustomer")
    CustomerFactory(merchant=second, firstname="SecondShopCustomer")

    before = portal_staff_client.get("/portal/customers/").content.decode()
    switched = portal_staff_client.post("/portal/switch/", {"merchant": str(second.pk)}, follow=True)
    after = portal_staff_client.get("/portal/customers/").content.decode()

    # Memberships are ordered by merchant name: "Acme Ltd" is active first.
    assert "FirstShopCustomer" in before
    assert "SecondShopCustomer" not in before
    assert "You are now working in Second Shop." in switched.content.decode()
    assert "SecondShopCustomer" in after
    assert "FirstShopCustomer" not in after
    # The role follows the active merchant: admin in the second shop.
    assert portal_staff_client.get("/portal/credentials/").status_code == 200


def test_switching_to_a_merchant_one_is_not_a_member_of_is_refused(portal_admin_client, other_merchant, merchant):
    response = portal_admin_client.post("/portal/switch/", {"merchant": str(other_merchant.pk)})

    assert response.status_code == 400
    assert merchant.name in portal_admin_client.get("/portal/").content.decode()


def test_the_merchant_switcher_appears_only_for_members_of_several_merchants(portal_admin_client, merchant):
    assert 'name="merchant"' not in portal_admin_client.get("/portal/").content.decode()
    MembershipFactory(merchant=MerchantFactory(name="Zeta"), user=portal_admin_client.user)

    html = portal_admin_client.get("/portal/").content.decode()

    assert 'name="merchant"' in html
    assert "Zeta" in html


def test_logging_out_ends_the_session(portal_admin_client):
    response = portal_admin_client.post("/portal/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/portal/login/"
    assert portal_admin_client.get("/portal/").status_code == 302


def test_a_member_changes_their_password(portal_staff_client):
    response = portal_staff_client.post(
        "/portal/password/",
        {
            "old_password": USER_PASSWORD,
            "new_password1": "a brand new passphrase",
            "new_password2": "a brand new passphrase",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/portal/password/done/"
    portal_staff_client.user.refresh_from_db()
    assert portal_staff_client.user.check_password("a brand new passphrase")
    assert "Password changed" in portal_staff_client.get("/portal/password/done/").content.decode()


def test_staff_see_no_links_to_admin_pages(portal_staff_client, portal_admin_client):
    staff_html = portal_staff_client.get("/portal/").content.decode()
    admin_html = portal_admin_client.get("/portal/").content.decode()

    assert "/portal/credentials/" not in staff_html
    assert "/portal/staff/" not in staff_html
    assert "/portal/credentials/" in admin_html
    assert "/portal/staff/" in admin_html
