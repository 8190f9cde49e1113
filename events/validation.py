"""The rules a webhook endpoint must satisfy, for every door (API, portal)."""

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from core.text import text_error
from events.addresses import InvalidURL, PrivateAddress, check_destination, parse_webhook_url
from events.models import CustomerEvent

# What an endpoint subscribes to; `ping` is not among them: it is sent on request, to one endpoint.
EVENT_TYPES = tuple(t for t in CustomerEvent.Type.values if t != CustomerEvent.Type.PING)
ENDPOINT_FIELDS = ("url", "description", "enabled_events", "is_active")
MAX_URL_LENGTH = 2000
MAX_DESCRIPTION_LENGTH = 200
MAX_WEBHOOK_ENDPOINTS = 16

_url_validator = URLValidator(schemes=["http", "https"])
# RFC 3986 characters only in the path and query: Django's URLValidator lets '|', '"', '{', '#'
# and broken %-escapes through, which no HTTP client sends as they are.
PATH_AND_QUERY = re.compile(r"(?:%[0-9A-Fa-f]{2}|[A-Za-z0-9._~!$&'()*+,;=:@/?-])*")


def clean_webhook_endpoint(data: Any, *, partial: bool = False) -> dict[str, Any]:
    """Normalized fields of a webhook endpoint, or one ValidationError naming every problem by field.

    Create and replace (`partial=False`) need `url`; `enabled_events` then
    defaults to every event type. An update (`partial=True`) takes any subset.
    """
    if not isinstance(data, Mapping):
        raise ValidationError("The body must be a JSON object.", code="invalid")
    errors: dict[str, list[ValidationError]] = {}

    def add(field: str, message: str, code: str) -> None:
        errors.setdefault(field, []).append(ValidationError(message, code=code))

    for key in data:
        if key not in ENDPOINT_FIELDS:
            add(str(key), f"Unknown field '{key}'. Known fields: {', '.join(ENDPOINT_FIELDS)}.", "unknown_field")

    cleaned: dict[str, Any] = {}
    if "url" in data:
        url = data["url"]
        if not isinstance(url, str) or not url.strip():
            add("url", "Give the URL that receives the events, as a string.", "required")
        else:
            url = url.strip()
            try:
                if len(url) > MAX_URL_LENGTH:
                    raise ValidationError(f"At most {MAX_URL_LENGTH} characters.", code="max_length")
                _url_validator(url)
                parts = urlsplit(url)
                if "#" in url or not PATH_AND_QUERY.fullmatch(parts.path + "?" + parts.query):
                    raise ValidationError("No #fragment, and %-encode characters outside RFC 3986.", code="invalid_url")
                # Read as the HTTP client (urllib3) reads it, and refused where parsers could disagree
                # (a backslash, user:pass@...): the host checked must be the host connected to.
                destination = parse_webhook_url(url)
            except ValidationError as exc:
                code = exc.code if exc.code == "max_length" else "invalid_url"
                message = exc.messages[0] if code == "max_length" else "Enter a valid http:// or https:// URL."
                add("url", message, code)
            except InvalidURL as exc:
                add("url", str(exc), "invalid_url")
            else:
                if not settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS:
                    try:
                        check_destination(destination)
                    except PrivateAddress as exc:
                        add("url", f"Webhook URLs must point at a public address: {exc}", "private_address")
                cleaned["url"] = url
    elif not partial:
        add("url", "Give the URL that receives the events.", "required")

    if "description" in data:
        description = data["description"]
        if description is None:
            description = ""
        if not isinstance(description, str):
            add("description", "The description must be a string.", "invalid_type")
        elif (problem := text_error(description)) is not None:
            add("description", problem.message, problem.code)
        elif len(description.strip()) > MAX_DESCRIPTION_LENGTH:
            add("description", f"At most {MAX_DESCRIPTION_LENGTH} characters.", "max_length")
        else:
            cleaned["description"] = description.strip()
    elif not partial:
        cleaned["description"] = ""

    if "enabled_events" in data:
        events = data["enabled_events"]
        if not isinstance(events, list) or not events:
            add("enabled_events", f"Give a non-empty list of event types: {', '.join(EVENT_TYPES)}.", "invalid")
        else:
            for index, event_type in enumerate(events):
                if event_type not in EVENT_TYPES:
                    add(
                        f"enabled_events[{index}]",
                        f"Unknown event type {event_type!r}. Known types: {', '.join(EVENT_TYPES)}.",
                        "unknown_event_type",
                    )
            # Kept in the canonical order, duplicates dropped.
            cleaned["enabled_events"] = [t for t in EVENT_TYPES if t in events]
    elif not partial:
        cleaned["enabled_events"] = list(EVENT_TYPES)

    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            add("is_active", "Give true or false.", "invalid_type")
        else:
            cleaned["is_active"] = data["is_active"]
    elif not partial:
        cleaned["is_active"] = True

    if errors:
        raise ValidationError(errors)
    return cleaned
