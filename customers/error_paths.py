"""Reading the field paths of the domain layer's ValidationError (see customers/validation.py)."""

import re

_CUSTOM_FIELD_PATH = re.compile(r"^options\.custom_fields\[(\d+)\](?:\.(\w+))?$")


def custom_field_error_index(path: str) -> tuple[int, str | None] | None:
    """`options.custom_fields[2].value` -> (2, "value"); `options.custom_fields[2]` -> (2, None); else None.

    The index is the item's position in the payload's custom_fields list, so a
    door that skipped blank rows maps it back to its own row itself.
    """
    match = _CUSTOM_FIELD_PATH.match(path)
    return (int(match[1]), match[2]) if match else None
