import hashlib

from django.db import transaction
from django.urls import reverse
from django.utils.http import parse_etags
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from api.parsers import MergePatchParser
from api.permissions import READ_SCOPE, WRITE_SCOPE
from api.views import MerchantAPIMixin, idempotent
from audit.services import Actor
from core.problems import validation_errors
from customers.api import schema
from customers.bulk import BulkItemResult, bulk_request_items, customers_create_each
from customers.exceptions import VersionMismatch
from customers.filters import list_query_from_params
from customers.models import Customer
from customers.representation import customer_as_dict
from customers.selectors import customer_get, customer_list
from customers.services import customer_create, customer_delete, customer_replace, customer_update


def customer_etag(customer: Customer) -> str:
    """A strong entity tag that changes with every version of the customer."""
    digest = hashlib.sha256(f"{customer.customer_id}:{customer.version}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def customer_response(customer: Customer, *, status_code: int = status.HTTP_200_OK, headers=None) -> Response:
    return Response(
        {"customer_id": str(customer.customer_id), "data": customer_as_dict(customer)},
        status=status_code,
        headers={"ETag": customer_etag(customer), **(headers or {})},
    )


@schema.customer_viewset_schema
class CustomerViewSet(MerchantAPIMixin, viewsets.GenericViewSet):
    """Customers of the merchant that owns the request's access token."""

    queryset = Customer.objects.none()
    lookup_field = "customer_id"
    parser_classes = [*viewsets.GenericViewSet.parser_classes, MergePatchParser]
    scopes_by_action = {
        "list": READ_SCOPE,
        "retrieve": READ_SCOPE,
        "create": WRITE_SCOPE,
        "bulk": WRITE_SCOPE,
        "update": WRITE_SCOPE,
        "partial_update": WRITE_SCOPE,
        "destroy": WRITE_SCOPE,
    }

    def actor(self) -> Actor:
        return Actor.for_client(self.request.auth.application)

    def get_object(self) -> Customer:
        try:
            return customer_get(merchant=self.request.merchant, customer_id=self.kwargs["customer_id"])
        except Customer.DoesNotExist:
            raise NotFound("No customer with this id.") from None

    def expected_version(self, customer: Customer) -> int | None:
        """The version an If-Match header pins the change to; VersionMismatch when it names another one.

        No header or `*` means unconditional. The service compares the version
        again under its row lock, so a change in between still fails.
        """
        header = self.request.headers.get("If-Match")
        if header is None:
            return None
        tags = parse_etags(header)
        if "*" in tags:
            return None
        if customer_etag(customer) in tags:
            return customer.version
        raise VersionMismatch(customer.version)

    def list(self, request):
        query = list_query_from_params(request.query_params)
        page = customer_list(merchant=request.merchant, filters=query.filters, cursor=query.cursor, limit=query.limit)
        return Response(
            {
                "data": [customer_as_dict(customer) for customer in page.customers],
                "has_more": page.has_more,
                "next_cursor": page.next_cursor,
            }
        )

    def retrieve(self, request, customer_id=None):
        return customer_response(self.get_object())

    @idempotent
    def create(self, request):
        customer = customer_create(merchant=request.merchant, data=request.data, actor=self.actor())
        location = reverse("api:customer-detail", kwargs={"customer_id": customer.customer_id})
        return customer_response(customer, status_code=status.HTTP_201_CREATED, headers={"Location": location})

    @idempotent
    def partial_update(self, request, customer_id=None):
        customer = self.get_object()
        updated = customer_update(
            customer=customer, data=request.data, actor=self.actor(), expected_version=self.expected_version(customer)
        )
        return customer_response(updated)

    @idempotent
    def update(self, request, customer_id=None):
        customer = self.get_object()
        replaced = customer_replace(
            customer=customer, data=request.data, actor=self.actor(), expected_version=self.expected_version(customer)
        )
        return customer_response(replaced)

    @idempotent
    def destroy(self, request, customer_id=None):
        customer = self.get_object()
        customer_delete(customer=customer, actor=self.actor(), expected_version=self.expected_version(customer))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=False, methods=["post"], url_path="bulk")
    @idempotent
    def bulk(self, request):
        items = bulk_request_items(request.data)
        # The items and the answer that reports them commit together: the answer is rendered before
        # the commit, so one that cannot be sent (a 500) leaves nothing written and a retry duplicates nothing.
        with transaction.atomic():
            results = customers_create_each(merchant=request.merchant, items=items, actor=self.actor())
            response = Response({"results": [_bulk_result(r) for r in results]}, status=status.HTTP_207_MULTI_STATUS)
            self.finalize_response(request, response).render()
        return response


def _bulk_result(result: BulkItemResult) -> dict:
    if result.customer_id is not None:
        return {"index": result.index, "status": 201, "customer_id": str(result.customer_id)}
    if result.error is not None:
        return {"index": result.index, "status": 400, "errors": validation_errors(result.error)}
    if result.conflict is not None:
        return {
            "index": result.index,
            "status": 409,
            "customer_id": str(result.conflict.customer_id),
            "errors": [{"field": "reference", "code": "reference_in_use", "message": str(result.conflict)}],
        }
    message = "An unexpected error occurred; this item was not created. Retry it with a new Idempotency-Key."
    return {
        "index": result.index,
        "status": 500,
        "errors": [{"field": None, "code": "internal_error", "message": message}],
    }
