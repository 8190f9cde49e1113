"""What `q` (the API) and the portal's search box match, the same on SQLite and PostgreSQL.

Matching runs against `Customer.search_text`, a column the service functions fill
with `customer_search_text` whenever a customer is written: each searchable value
folded by `fold` (Unicode case folding, compatibility decomposition, diacritics
dropped, white space collapsed) on a line of its own, after a space. The query is
folded the same way, in Python, so both databases compare the same strings with a
plain LIKE, and neither's collation or case rules decide what matches.

- From MIN_SUBSTRING_LENGTH characters on, the folded query matches anywhere in a
  value: `muller` finds "Müller", `ada lovelace` finds Ada Lovelace (the full name is
  kept in both orders), `lovelace@ex` finds her email. It never spans two values:
  a folded query holds no line break. PostgreSQL serves this with the trigram
  index (`pg_trgm`), which needs three characters to narrow anything.
- A shorter query matches the start of a word: after a space, and every value
  starts with one. `q=ad` finds "Ada" and "ada.lovelace@…", not "Canada". That is
  the pattern `% ad%`, which pg_trgm pads into the word-start trigrams "  a" and
  " ad", so even a two-letter miss is an index lookup.
- The phone is kept as digits, twice: E.164's (`442071838750`) and its national form's with the
  trunk prefix (`02071838750`). A query of digits and phone punctuation (`+44 20 7183 8750`,
  `020 7183 8750`) also matches as its digits alone, so any way of writing the number finds it.
- The merchant's reference is searched like a name.
- A query that is a customer_id (any case) also finds that customer.
- Characters that fold to nothing (controls, format characters such as RTL
  overrides, combining marks alone) are dropped; a query of nothing but those,
  or of white space, is no search at all.
"""

import re
import unicodedata

from django.db.models import F, Q, TextField, Value
from django.db.models.functions import Concat
from django.db.models.lookups import Contains
from psycopg.sql import Literal

from core.ids import parse_uuid
from customers.contact import phone_search_digits

MAX_QUERY_LENGTH = 200
MIN_SUBSTRING_LENGTH = 3
# Folded text never holds a line break: `fold` collapses white space to single spaces.
VALUE_START = "\n "
# Unicode categories that carry no searchable text: controls, format characters
# (bidirectional overrides, zero-width joiners), surrogates and private use.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
# A query that is a phone number as people write it: digits, a leading +, spaces, dashes, dots, parentheses.
_PHONE_QUERY = re.compile(r"^\+?[0-9 ()./-]+\Z", re.ASCII)


def fold(text: str | None) -> str:
    """`text` as search compares it: case-folded, without diacritics, white space collapsed.

    Straße -> strasse, Müller -> muller, İstanbul -> istanbul, ÉMILE -> emile, ﬁle -> file.
    """
    if not text:
        return ""
    if text.isascii() and text.isprintable():
        # Most names and every email: no marks, no controls, and casefold() is lower() in ASCII.
        return " ".join(text.lower().split())
    return fold_unicode(text)


def fold_unicode(text: str) -> str:
    """`fold` for any text (`fold` takes a shortcut for printable ASCII)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(
        char
        for char in decomposed
        if not unicodedata.combining(char) and unicodedata.category(char) not in _DROPPED_CATEGORIES
    )
    # Decomposition can produce characters that fold further (a compatibility
    # form of a capital letter); folding again makes `fold` idempotent.
    return " ".join(kept.casefold().split())


def customer_search_text(
    *,
    firstname: str | None,
    lastname: str | None,
    email: str | None,
    company: str | None,
    phone: str | None = None,
    reference: str | None = None,
) -> str:
    """The value of `Customer.search_text` for these fields: each searchable value folded, on a line after a space.

    `phone` is E.164, as stored.
    """
    first, last = fold(firstname), fold(lastname)
    lines = [f"{first} {last}".strip()]
    if first and last:
        lines.append(f"{last} {first}")
    lines += [fold(email), fold(company), *phone_search_digits(phone), fold(reference)]
    return "".join(VALUE_START + line for line in lines if line)[1:]


def customer_sort_keys(
    *, firstname: str | None, lastname: str | None, email: str | None, company: str | None
) -> tuple[str, str]:
    """`Customer.name_key` and `Customer.email_key`: what the portal's "Name" and "Email" sorts order by.

    Folded as search folds (Müller sorts with Muller, case aside), so both databases order the same
    strings. The name is the last name, then the first name; a customer without either is sorted by
    what the list shows for it: the company, else the email. Every customer has one of the four
    (customers.validation.check_has_identity), so no name key is empty. The email key starts with
    "0" when there is an email and is "1" when there is none: customers without an email come after
    every email in any collation, with no NULL (whose place differs between SQLite and PostgreSQL)
    for the keyset pagination to step over.
    """
    first, last = fold(firstname), fold(lastname)
    name = f"{last} {first}".strip() if (first or last) else (fold(company) or fold(email))
    folded_email = fold(email)
    return name, ("0" + folded_email) if folded_email else "1"


class _PatternAsLiteral:
    """On PostgreSQL, put the LIKE pattern into the statement as a literal instead of a bound parameter.

    Why: parameters are bound on the server and statements a connection runs
    twice are prepared (config/settings/database.py). After a few runs PostgreSQL
    may then plan a prepared search once for every term (a generic plan), but each
    term needs its own: a rare one or a miss is found through the trigram index, a
    common one by walking the newest-first index until the page is full. With the
    pattern in the text each term is a statement of its own, planned for itself.
    """

    def as_postgresql(self, compiler, connection):
        sql, params = self.as_sql(compiler, connection)
        connection.ensure_connection()
        # Quoted by psycopg itself; "%" doubled because the statement still goes through %s formatting.
        literals = tuple(Literal(param).as_string(connection.connection).replace("%", "%%") for param in params)
        return sql % literals, []


class _SearchContains(_PatternAsLiteral, Contains):
    pass


def _indexed_part(term: str) -> str:
    """The part of a search of 3 or more characters that the trigram index is asked for.

    A whole email costs the index the trigrams of its domain, which most customers
    share (`gmail.com`): thousands of index pages to find one row. The part up to
    and including the `@` is what tells customers apart; the whole term is then
    checked on the few rows it finds.
    """
    local, at, _domain = term.partition("@")
    return local + at if at and len(local) >= MIN_SUBSTRING_LENGTH and _domain else term


def search_condition(query: str) -> Q | None:
    """The filter for a search box query (at most MAX_QUERY_LENGTH characters); None when it searches nothing."""
    term = fold(query)
    if not term:
        return None
    text = F("search_text")
    if len(term) < MIN_SUBSTRING_LENGTH:
        condition = Q(_SearchContains(text, " " + term))
    elif (indexed := _indexed_part(term)) != term:
        # `search_text || ''` is the same text, but not the indexed column: a check, not an index condition.
        condition = Q(_SearchContains(text, indexed)) & Q(
            _SearchContains(Concat(text, Value(""), output_field=TextField()), term)
        )
    else:
        condition = Q(_SearchContains(text, term))
    digits = re.sub(r"[^0-9]", "", term)
    if digits != term and len(digits) >= MIN_SUBSTRING_LENGTH and _PHONE_QUERY.match(term):
        condition |= Q(_SearchContains(text, digits))
    customer_id = parse_uuid(query.strip())
    if customer_id is not None:
        condition |= Q(customer_id=customer_id)
    return condition
