from django.urls import reverse
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from customers.models import Customer
from customers.representation import customer_as_dict
from customers.selectors import customer_get
from customers.services import Actor, customer_create


def customer_response(customer: Customer, *, status_code: int = status.HTTP_200_OK, headers=None) -> Response:
    return Response(
        {"customer_id": str(customer.customer_id), "data": customer_as_dict(customer)},
        status=status_code,
        headers=headers,
    )


class CustomerViewSet(viewsets.GenericViewSet):
    """Customers of the merchant that owns the request's access token."""

    queryset = Customer.objects.none()
    lookup_field = "customer_id"

    def get_queryset(self):
        return Customer.objects.for_merchant(self.request.merchant)

    def actor(self) -> Actor:
        return Actor.for_client(self.request.auth.application)

    def create(self, request):
        customer = customer_create(merchant=request.merchant, data=request.data, actor=self.actor())
        location = reverse("api:customer-detail", kwargs={"customer_id": customer.customer_id})
        return customer_response(customer, status_code=status.HTTP_201_CREATED, headers={"Location": location})

    def get_object(self) -> Customer:
        try:
            return customer_get(merchant=self.request.merchant, customer_id=self.kwargs["customer_id"])
        except Customer.DoesNotExist:
            raise NotFound("No customer with this id.") from None

    def retrieve(self, request, customer_id=None):
        return customer_response(self.get_object())
