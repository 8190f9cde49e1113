"""Django admin goes through the domain services for deletes and memberships, like the other doors."""

from customers.models import AuditEntry, Customer, CustomerEvent
from customers.services import customer_create


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
