"""Rules for text from outside that every app applies the same way."""

from django.core.exceptions import ValidationError

# The white space trimmed from text and that a blank value may consist of: what Python's
# str.isspace() and ECMAScript's \s (the regex dialect of the OpenAPI schema's patterns) both
# call white space. Python alone adds \x1c-\x1f and \x85, ECMAScript alone U+FEFF; with one
# set, the schema's "blank" and the code's agree on every input.
WHITESPACE = "\t\n\v\f\r \u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
_WHITESPACE_CLASS = r"\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
WHITESPACE_CLASS = _WHITESPACE_CLASS  # for a pattern that allows the trimmed white space around a value
BLANK_PATTERN = f"^[{_WHITESPACE_CLASS}]*$"
NOT_BLANK_PATTERN = f"[^{_WHITESPACE_CLASS}]"


def text_error(value: str) -> ValidationError | None:
    """Why `value` is not text PostgreSQL can store and a person can read (NUL, lone surrogates), or None."""
    if "\x00" in value:
        return ValidationError("Must not contain NUL characters.", code="null_characters_not_allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return ValidationError("Must be valid Unicode text (lone surrogates are not allowed).", code="invalid_unicode")
    return None
