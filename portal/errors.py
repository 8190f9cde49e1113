"""Put the domain layer's ValidationError beside the input it is about."""

import re

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from customers.error_paths import custom_field_error_index, record_field_of_path

_LIST_ITEM_PATH = re.compile(r"^(\w+)\[\d+\]$")


def show_domain_errors(error: ValidationError, *, form, formset=None, rows: list[int] = ()) -> None:
    """Attach `error` to `form` and the custom field `formset`.

    Field paths map to inputs: `email` to the form's email input, an item of a
    list input (`enabled_events[1]`) to that input,
    `options.custom_fields[1].value` to the value input of the row that produced
    payload item 1 (`rows[1]`, since blank rows are not sent). Anything without
    an input of its own is shown at the top of the form.
    """
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for path, errors in error.error_dict.items():
        if record_field_of_path(path) in form.fields:
            path = record_field_of_path(path)  # address.city -> the address_city input
        custom_field = custom_field_error_index(path)
        list_item = _LIST_ITEM_PATH.match(path)
        if path != NON_FIELD_ERRORS and path in form.fields:
            form.add_error(path, errors)
        elif list_item and list_item[1] in form.fields:
            form.add_error(list_item[1], errors)
        elif custom_field and formset is not None and custom_field[0] < len(rows):
            index, key = custom_field
            row = formset.forms[rows[index]]
            row.add_error(key if key in row.fields else None, errors)
        elif path.startswith("options"):
            form.add_error(None, [ValidationError(f"Custom fields: {message}") for message in _messages(errors)])
        else:
            form.add_error(None, errors)


def _messages(errors: list[ValidationError]) -> list[str]:
    return [message for e in errors for message in e.messages]
