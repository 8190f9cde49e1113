"""Put the domain layer's ValidationError beside the input it is about."""

import re

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

_CUSTOM_FIELD_PATH = re.compile(r"^options\.custom_fields\[(\d+)\](?:\.(\w+))?$")


def show_domain_errors(error: ValidationError, *, form, formset=None, rows: list[int] = ()) -> None:
    """Attach `error` to `form` and the custom field `formset`.

    Field paths map to inputs: `email` to the form's email input,
    `options.custom_fields[1].value` to the value input of the row that produced
    payload item 1 (`rows[1]`, since blank rows are not sent). Anything without
    an input of its own is shown at the top of the form.
    """
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for path, errors in error.error_dict.items():
        match = _CUSTOM_FIELD_PATH.match(path)
        if path != NON_FIELD_ERRORS and path in form.fields:
            form.add_error(path, errors)
        elif match and formset is not None and int(match[1]) < len(rows):
            row = formset.forms[rows[int(match[1])]]
            key = match[2] if match[2] in row.fields else None
            row.add_error(key, errors)
        elif path.startswith("options"):
            form.add_error(None, [ValidationError(f"Custom fields: {message}") for message in _messages(errors)])
        else:
            form.add_error(None, errors)


def _messages(errors: list[ValidationError]) -> list[str]:
    return [message for e in errors for message in e.messages]
