"""Translate a list query string into the selector's CustomerFilters.

The API's list endpoint uses it directly; the portal's filter form translates
its own inputs into these parameters and uses it too, so both doors accept and
refuse the same filters.

Every problem is reported at once, by parameter name, as a Django
ValidationError (a 400 problem). Unknown parameters are errors too: a mistyped
`emial=` must not silently list every customer.
"""

import dataclasses
import datetime
import difflib
import re

from django.core.exceptions import ValidationError
from django.http import QueryDict

from core.text import WHITESPACE
from customers.search import MAX_QUERY_LENGTH
from customers.selectors import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, CustomerFilters
from customers.validation import CUSTOM_FIELD_NAME_RE, normalize_country

TEXT_FILTERS = ("email", "q", "company")
KNOWN_PARAMETERS = (*TEXT_FILTERS, "reference", "address_country", "created_after", "created_before", "limit", "cursor")
_CUSTOM_FIELD_PARAMETER = re.compile(r"^custom_fields\[(.*)\]\Z", re.DOTALL)
# "+02:00" arrives as " 02:00" when the client did not percent-encode the plus sign.
_UNENCODED_PLUS_OFFSET = re.compile(r"(\d) (\d{2}(?::?\d{2})?)\Z")


@dataclasses.dataclass(frozen=True)
class ListQuery:
    filters: CustomerFilters
    limit: int
    cursor: str | None


def _parse_timestamp(value: str) -> datetime.datetime | None:
    """An ISO 8601 date or date-time; without an offset it is UTC. None when unparseable."""
    text = _UNENCODED_PLUS_OFFSET.sub(r"\1+\2", value.strip(WHITESPACE))
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=datetime.UTC)
    # In UTC: PostgreSQL refuses offsets beyond 15:59 that ISO 8601 allows (+22:21).
    try:
        return parsed.astimezone(datetime.UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first moment Python has
        return (datetime.datetime.min if parsed.year == 1 else datetime.datetime.max).replace(tzinfo=datetime.UTC)


def list_query_from_params(params: QueryDict) -> ListQuery:
    errors: dict[str, list[ValidationError]] = {}

    def error(parameter: str, message: str, code: str) -> None:
        errors.setdefault(parameter, []).append(ValidationError(message, code=code))

    values: dict[str, str] = {}
    custom_fields: list[tuple[str, str]] = []
    for parameter in params:
        given = params.getlist(parameter)
        if len(given) > 1:
            error(parameter, f"Give '{parameter}' once (it was given {len(given)} times).", "duplicate_parameter")
            continue
        match = _CUSTOM_FIELD_PARAMETER.match(parameter)
        if "\x00" in given[0] or ("\x00" in parameter and not match):
            # PostgreSQL text cannot hold NUL: the query would fail as a 500.
            error(parameter, "Must not contain NUL characters.", "null_characters_not_allowed")
            continue
        if match:
            # A name no custom field can have ("bad name", "") matches no customer, as an unused
            # name does; the empty name stands for it in the query, since it can never be stored.
            name = match.group(1) if CUSTOM_FIELD_NAME_RE.match(match.group(1)) else ""
            custom_fields.append((name, given[0]))
        elif parameter in KNOWN_PARAMETERS:
            values[parameter] = given[0]
        else:
            message = f"Unknown query parameter '{parameter}'."
            close = difflib.get_close_matches(parameter, KNOWN_PARAMETERS, n=1, cutoff=0.6)
            if close:
                message += f" Did you mean '{close[0]}'?"
            elif parameter.startswith("custom_fields"):
                message += " Filter by a custom field with custom_fields[NAME]=VALUE."
            error(parameter, message, "unknown_parameter")

    # An empty value means "no filter", as when the parameter is left out.
    filters: dict = {
        name: values[name].strip(WHITESPACE) for name in TEXT_FILTERS if values.get(name, "").strip(WHITESPACE)
    }

    if len(filters.get("q", "")) > MAX_QUERY_LENGTH:
        error(
            "q",
            f"A search can be at most {MAX_QUERY_LENGTH} characters (this one has {len(filters['q'])}).",
            "search_too_long",
        )

    if values.get("reference", "").strip(WHITESPACE):
        # Exact, as stored: a reference never has white space around it.
        filters["reference"] = values["reference"].strip(WHITESPACE)

    if values.get("address_country", "").strip(WHITESPACE):
        code = normalize_country(values["address_country"])
        if code is None:
            error(
                "address_country",
                f"'{values['address_country'][:20]}' is not an ISO 3166-1 alpha-3 country code (for example USA).",
                "invalid_country",
            )
        filters["address_country"] = code

    for name in ("created_after", "created_before"):
        if values.get(name, "").strip(WHITESPACE):
            moment = _parse_timestamp(values[name])
            if moment is None:
                error(
                    name,
                    "Must be an ISO 8601 date or date-time, for example 2024-05-31 or 2024-05-31T14:30:00Z "
                    "(write a '+' in an offset as %2B).",
                    "invalid_datetime",
                )
            filters[name] = moment

    limit = DEFAULT_PAGE_SIZE
    if values.get("limit", "").strip(WHITESPACE):
        raw = values["limit"].strip(WHITESPACE)
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
            error("limit", f"Must be a whole number from 1 to {MAX_PAGE_SIZE}.", "invalid_limit")
        else:
            limit = int(raw)

    if errors:
        raise ValidationError(errors)
    return ListQuery(
        filters=CustomerFilters(**filters, custom_fields=tuple(custom_fields)),
        limit=limit,
        cursor=values.get("cursor", "").strip(WHITESPACE) or None,
    )
