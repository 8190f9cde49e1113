"""What clean_customer_payload hands the services: the decision to clear custom fields is made once, there."""

import pytest

from customers.validation import clean_customer_payload


@pytest.mark.parametrize("patch", [{"options": None}, {"options": {"custom_fields": None}}])
def test_a_merge_patch_nulling_options_or_custom_fields_asks_to_clear_them(patch):
    cleaned = clean_customer_payload(patch | {"firstname": "Ada"}, partial=True)

    assert (cleaned.clear_custom_fields, cleaned.custom_fields) == (True, None)


@pytest.mark.parametrize(
    ("payload", "partial"),
    [
        ({"firstname": "Ada"}, True),
        ({"firstname": "Ada", "options": {}}, True),
        ({"firstname": "Ada", "options": {"custom_fields": []}}, True),
        ({"firstname": "Ada", "options": None}, False),
        ({"firstname": "Ada", "options": {"custom_fields": None}}, False),
    ],
)
def test_other_payloads_do_not_ask_to_clear_custom_fields(payload, partial):
    assert clean_customer_payload(payload, partial=partial).clear_custom_fields is False
