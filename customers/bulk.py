"""Create many customers in one call, each item on its own (the API's POST /customers/bulk)."""

import dataclasses
import logging
import uuid
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from audit.services import SYSTEM, Actor
from customers.exceptions import ReferenceInUse
from customers.services import customer_create
from merchants.models import Merchant

logger = logging.getLogger(__name__)

MAX_BULK_ITEMS = 100


@dataclasses.dataclass(frozen=True)
class BulkItemResult:
    index: int
    customer_id: uuid.UUID | None = None
    error: ValidationError | None = None  # the item's validation errors, field paths relative to the item
    conflict: ReferenceInUse | None = None  # its reference is another customer's (also one earlier in the call)
    failed_unexpectedly: bool = False


def bulk_request_items(payload: Any) -> Any:
    """The items of a bulk request body `{"customers": [...]}`; ValidationError for any other shape."""
    if not isinstance(payload, dict):
        message = 'The request body must be a JSON object: {"customers": [...]}.'
        raise ValidationError({NON_FIELD_ERRORS: ValidationError(message, code="invalid_type")})
    errors = {
        str(key): ValidationError(f"Unknown field '{key}'. Put the customers in 'customers'.", code="unknown_field")
        for key in payload
        if key != "customers"
    }
    if "customers" not in payload:
        errors["customers"] = ValidationError("This field is required.", code="required")
    if errors:
        raise ValidationError(errors)
    return payload["customers"]


def customers_create_each(*, merchant: Merchant, items: Any, actor: Actor = SYSTEM) -> list[BulkItemResult]:
    """Create each item with `customer_create`: one transaction, a savepoint per item.

    A valid item is stored even when others are invalid: a failing item rolls back
    its own savepoint alone, and the created items commit together (with the stored
    Idempotency-Key answer, when the API view holds one). `items` must be a list
    of 1 to MAX_BULK_ITEMS entries, else ValidationError on `customers` and
    nothing is created. An unexpected error in one item is logged and reported
    for that item alone, so that the items already created are reported too and
    a retry with the same Idempotency-Key cannot create them twice.
    """
    if not isinstance(items, list):
        raise ValidationError({"customers": ValidationError("Must be a list of customers.", code="invalid_type")})
    if not 1 <= len(items) <= MAX_BULK_ITEMS:
        raise ValidationError(
            {
                "customers": ValidationError(
                    f"Must hold 1 to {MAX_BULK_ITEMS} customers (it has {len(items)}).", code="invalid_length"
                )
            }
        )
    results = []
    with transaction.atomic():
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                message = "Each item must be a JSON object."
                error = ValidationError({f"customers[{index}]": ValidationError(message, code="invalid_type")})
                results.append(BulkItemResult(index=index, error=error))
                continue
            try:
                with transaction.atomic():  # the item's savepoint
                    customer = customer_create(merchant=merchant, data=item, actor=actor)
            except ValidationError as error:
                results.append(BulkItemResult(index=index, error=error))
            except ReferenceInUse as conflict:
                results.append(BulkItemResult(index=index, conflict=conflict))
            except Exception:
                logger.exception("Bulk create: item %d failed unexpectedly", index)
                results.append(BulkItemResult(index=index, failed_unexpectedly=True))
            else:
                results.append(BulkItemResult(index=index, customer_id=customer.customer_id))
    return results
