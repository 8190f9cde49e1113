"""Django admin goes through the domain services for deletes and memberships, like the other doors."""

from audit.models import AuditEntry
from customers.models import Customer
from customers.services import customer_create
from events.models import CustomerEvent
from merchants.models import MerchantMembership, OAuthClient
from merchants.services import LAST_ADMIN_MESSAGE, oauth_client_create
from tests.factories import MembershipFactory, UserFactory


def test_deleting_a_customer_in_admin_records_the_deletion_event_and_audit_entry(admin_site_client, merchant):
    ada = customer_create(merchant=merchant, data={"firstname": "Ada", "email": "ada@example.com"})

    response = admin_site_client.post(f"/admin/customers/customer/{ada.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Customer.objects.filter(pk=ada.pk).exists()
    assert CustomerEvent.objects.filter(customer_id=ada.pk, type=CustomerEvent.Type.DELETED).count() == 1
    entry = AuditEntry.objects.get(customer_id=ada.pk, action="deleted")
    assert (entry.door, entry.actor) == (AuditEntry.Door.ADMIN, f"user:{admin_site_client.user.pk}:operator")
    created = CustomerEvent.objects.get(customer_id=ada.pk, type=CustomerEvent.Type.CREATED)
    assert "ada@example.com" not in str(created.payload)


def test_deleting_customers_with_the_admin_action_goes_through_the_domain_for_each(admin_site_client, merchant):
    ada = customer_create(merchant=merchant, data={"firstname": "Ada"})
    bob = customer_create(merchant=merchant, data={"firstname": "Bob"})

    response = admin_site_client.post(
        "/admin/customers/customer/",
        {"action": "delete_selected", "_selected_action": [str(ada.pk), str(bob.pk)], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Customer.objects.exists()
    assert sorted(
        AuditEntry.objects.filter(action="deleted", door=AuditEntry.Door.ADMIN).values_list("customer_id", flat=True)
    ) == sorted([ada.pk, bob.pk])
    assert CustomerEvent.objects.filter(type=CustomerEvent.Type.DELETED).count() == 2


# --- memberships: the merchant's last admin stays, as in the portal --------------------------------------


def merchant_post(merchant, memberships=()) -> dict:
    """The merchant change form with its existing memberships as rows (each row: dict of overrides)."""
    data = {
        "name": merchant.name,
        "is_active": "on",
        "oauth_clients-TOTAL_FORMS": "0",
        "oauth_clients-INITIAL_FORMS": "0",
        "oauth_clients-MIN_NUM_FORMS": "0",
        "oauth_clients-MAX_NUM_FORMS": "1000",
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(len(memberships)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for index, (membership, overrides) in enumerate(memberships):
        row = {"id": str(membership.pk), "merchant": str(merchant.pk), "user": str(membership.user_id)}
        row["role"] = membership.role
        row.update(overrides)
        data.update({f"memberships-{index}-{key}": value for key, value in row.items()})
    return data


def error_messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def test_demoting_the_last_admin_inline_is_refused_with_a_message(admin_site_client, merchant):
    owner = MembershipFactory(merchant=merchant, role="admin")
    url = f"/admin/merchants/merchant/{merchant.pk}/change/"

    response = admin_site_client.post(url, merchant_post(merchant, [(owner, {"role": "staff"})]) | {"name": "Renamed"})

    assert response.status_code == 302
    assert response["Location"] == url
    assert LAST_ADMIN_MESSAGE in error_messages(response)
    owner.refresh_from_db()
    merchant.refresh_from_db()
    assert (owner.role, merchant.name != "Renamed") == ("admin", True)  # nothing of the submit was kept


def test_removing_the_last_admin_inline_is_refused(admin_site_client, merchant):
    owner = MembershipFactory(merchant=merchant, role="admin")

    response = admin_site_client.post(
        f"/admin/merchants/merchant/{merchant.pk}/change/", merchant_post(merchant, [(owner, {"DELETE": "on"})])
    )

    assert response.status_code == 302
    assert LAST_ADMIN_MESSAGE in error_messages(response)
    assert MerchantMembership.objects.filter(pk=owner.pk).exists()


def test_handing_over_the_admin_role_inline_in_one_submit_is_allowed(admin_site_client, merchant):
    owner = MembershipFactory(merchant=merchant, role="admin")
    clerk = MembershipFactory(merchant=merchant, role="staff")

    response = admin_site_client.post(
        f"/admin/merchants/merchant/{merchant.pk}/change/",
        merchant_post(merchant, [(owner, {"role": "staff"}), (clerk, {"role": "admin"})]),
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/merchants/merchant/"
    owner.refresh_from_db()
    clerk.refresh_from_db()
    assert (owner.role, clerk.role) == ("staff", "admin")


def test_demoting_the_last_admin_on_the_membership_page_is_refused(admin_site_client, merchant):
    owner = MembershipFactory(merchant=merchant, role="admin")
    url = f"/admin/merchants/merchantmembership/{owner.pk}/change/"

    response = admin_site_client.post(url, {"user": str(owner.user_id), "merchant": str(merchant.pk), "role": "staff"})

    assert response.status_code == 302
    assert response["Location"] == url
    assert LAST_ADMIN_MESSAGE in error_messages(response)
    owner.refresh_from_db()
    assert owner.role == "admin"


def test_a_membership_keeps_its_user_and_merchant_on_the_membership_page(admin_site_client, merchant, other_merchant):
    clerk = MembershipFactory(merchant=merchant, role="staff")
    MembershipFactory(merchant=merchant, role="admin")

    response = admin_site_client.post(
        f"/admin/merchants/merchantmembership/{clerk.pk}/change/",
        {"user": str(clerk.user_id), "merchant": str(other_merchant.pk), "role": "admin"},
    )

    assert response.status_code == 302
    clerk.refresh_from_db()
    assert (clerk.merchant, clerk.role) == (merchant, "admin")


def test_deleting_the_last_admin_on_its_page_is_refused(admin_site_client, merchant):
    owner = MembershipFactory(merchant=merchant, role="admin")

    response = admin_site_client.post(f"/admin/merchants/merchantmembership/{owner.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert LAST_ADMIN_MESSAGE in error_messages(response)
    assert MerchantMembership.objects.filter(pk=owner.pk).exists()


def test_the_delete_action_removes_members_but_keeps_each_merchants_last_admin(admin_site_client, merchant):
    first = MembershipFactory(merchant=merchant, role="admin")
    second = MembershipFactory(merchant=merchant, role="admin")
    clerk = MembershipFactory(merchant=merchant, role="staff")

    response = admin_site_client.post(
        "/admin/merchants/merchantmembership/",
        {"action": "delete_selected", "_selected_action": [str(m.pk) for m in (first, second, clerk)], "post": "yes"},
    )

    assert response.status_code == 302
    remaining = list(MerchantMembership.objects.filter(merchant=merchant))
    assert [m.role for m in remaining] == ["admin"]
    assert any(LAST_ADMIN_MESSAGE in message for message in error_messages(response))


def test_adding_a_member_inline_still_works(admin_site_client, merchant):
    owner = MembershipFactory(merchant=merchant, role="admin")
    newcomer = UserFactory()
    data = merchant_post(merchant, [(owner, {})])
    data.update(
        {
            "memberships-TOTAL_FORMS": "2",
            "memberships-1-merchant": str(merchant.pk),
            "memberships-1-user": str(newcomer.pk),
            "memberships-1-role": "staff",
        }
    )

    response = admin_site_client.post(f"/admin/merchants/merchant/{merchant.pk}/change/", data)

    assert response.status_code == 302, response.context and response.context["inline_admin_formsets"]
    assert MerchantMembership.objects.get(merchant=merchant, user=newcomer).role == "staff"


# --- API clients: only through the merchant page -------------------------------------------------------


def test_api_clients_have_no_admin_page_of_their_own(admin_site_client, merchant):
    issued = oauth_client_create(merchant=merchant, name="Checkout")

    listing = admin_site_client.get(f"/admin/{OAuthClient._meta.app_label}/{OAuthClient._meta.model_name}/")
    change = admin_site_client.get(
        f"/admin/{OAuthClient._meta.app_label}/{OAuthClient._meta.model_name}/{issued.client.pk}/change/"
    )
    index = admin_site_client.get("/admin/").content.decode()

    assert (listing.status_code, change.status_code) == (404, 404)
    assert f"/admin/{OAuthClient._meta.app_label}/{OAuthClient._meta.model_name}/" not in index
    assert (
        issued.client.client_id
        in admin_site_client.get(f"/admin/merchants/merchant/{merchant.pk}/change/").content.decode()
    )
