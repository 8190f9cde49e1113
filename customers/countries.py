"""Country names for people; the stored value is always the ISO 3166-1 alpha-3 code."""

import functools

from django_countries import countries


@functools.cache
def country_choices() -> list[tuple[str, str]]:
    """(alpha-3 code, name) of every country, by name: selects show names and submit codes."""
    return sorted(((countries.alpha3(c.code), c.name) for c in countries), key=lambda pair: pair[1])


def country_name(code: str | None) -> str:
    return dict(country_choices()).get(code or "", code or "")
