"""Reading the field paths of the domain layer's ValidationError (see customers/validation.py)."""

import re

from customers.contact import ADDRESS_COLUMNS

_CUSTOM_FIELD_PATH = re.compile(r"^options\.custom_fields\[(\d+)\](?:\.(\w+))?$")


def custom_field_error_index(path: str) -> tuple[int, str | None] | None:
    """`options.custom_fields[2].value` -> (2, "value"); `options.custom_fields[2]` -> (2, None); else None.

    The index is the item's position in the payload's custom_fields list, so a
    door that skipped blank rows maps it back to its own row itself.
    """
    match = _CUSTOM_FIELD_PATH.match(path)
    return (int(match[1]), match[2]) if match else None


def record_field_of_path(path: str) -> str:
    """The customer column an error path names: `address.city` -> address_city; other paths as they are."""
    part = path.removeprefix("address.")
    return f"address_{part}" if part != path and part in ADDRESS_COLUMNS else path
