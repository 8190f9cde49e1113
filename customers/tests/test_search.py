"""What `q` and `company=` find, through the API and the portal, the same on SQLite and PostgreSQL."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import Customer
from customers.search import MAX_QUERY_LENGTH, customer_search_text, fold, fold_unicode
from customers.services import customer_create
from tests.api_helpers import URL, assert_problem, detail_url, error_fields
from tests.factories import CustomerFactory, CustomFieldFactory, MerchantFactory


def found(client, **params) -> set[str]:
    response = client.get(URL, {"limit": 100, **params})
    assert response.status_code == 200, response.content
    body = response.json()
    assert not body["has_more"]
    return {item["customer_id"] for item in body["data"]}


def ids(*customers) -> set[str]:
    return {str(c.pk) for c in customers}


# --- folding -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Müller", "muller"),
        ("Straße", "strasse"),
        ("ÉMILE", "emile"),
        ("Émile", "emile"),
        ("İstanbul", "istanbul"),
        ("ﬁle", "file"),  # a compatibility ligature
        ("  Ada \t\n Lovelace  ", "ada lovelace"),
        ("Ada\u202eLovelace", "adalovelace"),  # a bidirectional override is dropped
        ("\u0301\u0308", ""),  # combining marks alone
        ("ΣΊΣΥΦΟΣ", "σισυφοσ"),
        ("Ｆｕｌｌ", "full"),  # full-width letters
        (None, ""),
    ],
)
def test_fold_removes_case_accents_and_invisible_characters(text, folded):
    assert fold(text) == folded


def test_fold_is_idempotent_on_compatibility_forms():
    for text in ["ℌello", "Ⅻ", "ǅ", "ﬀ", "ẞ", "K"]:
        assert fold(fold(text)) == fold(text)


def test_the_ascii_shortcut_of_fold_agrees_with_the_full_folding():
    for code in range(128):
        text = f"Ab{chr(code)}Cd  {chr(code)}"
        assert fold(text) == fold_unicode(text), repr(chr(code))


def test_search_text_keeps_the_full_name_in_both_orders_one_value_per_line():
    text = customer_search_text(firstname="Ada", lastname="Lovelace", email="ADA@Example.com", company="Analytical")
    assert text.split("\n") == [" ada lovelace", " lovelace ada", " ada@example.com", " analytical"]


# --- what q finds --------------------------------------------------------------------------------


@pytest.fixture
def people(merchant):
    return {
        "muller": CustomerFactory(merchant=merchant, firstname="Jürgen", lastname="Müller", email=None),
        "strasse": CustomerFactory(
            merchant=merchant, firstname=None, lastname=None, email=None, company="Hauptstraße Bäckerei"
        ),
        "emile": CustomerFactory(merchant=merchant, firstname="ÉMILE", lastname="Zola", email="ez@example.fr"),
        "istanbul": CustomerFactory(
            merchant=merchant, firstname=None, lastname=None, email=None, company="İstanbul AŞ"
        ),
        "ada": CustomerFactory(
            merchant=merchant, firstname="Ada", lastname="Lovelace", email="ada.lovelace@example.com"
        ),
        "canada": CustomerFactory(merchant=merchant, firstname="Jean", lastname="Tremblay", company="Canada Post"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("muller", {"muller"}),
        ("MÜLLER", {"muller"}),
        ("jurgen mull", {"muller"}),
        ("STRASSE", {"strasse"}),
        ("straße", {"strasse"}),
        ("backerei", {"strasse"}),
        ("emile", {"emile"}),
        ("Émile", {"emile"}),
        ("istanbul", {"istanbul"}),
        ("ISTANBUL", {"istanbul"}),
        ("Ada Lovelace", {"ada"}),
        ("lovelace ada", {"ada"}),
        ("  ada   lovelace ", {"ada"}),
        ("lovelace@exam", {"ada"}),
        ("ada.love", {"ada"}),
        ("post", {"canada"}),
        ("ada", {"ada", "canada"}),  # three letters: anywhere, "Canada" too
        ("ad", {"ada"}),  # two letters: the start of a word only
        ("lo", {"ada"}),  # Lovelace, the start of a word; not "ada.lovelace@", inside one
        ("c7777@example.com", set()),
        ("ada.lovelace@example.com", {"ada"}),  # an email: its local part looked up, the whole checked
        ("ada.lovelace@example.org", set()),
        ("lovelace@example.com", {"ada"}),
        ("a", {"ada", "istanbul"}),  # "Ada", and "AŞ" (folded "as"); not "Canada" nor "Jean"
        ("z", {"emile"}),  # Zola; "ez@…" is not a word starting with z
        ("lovelace ada lovelace", set()),
        ("nobody", set()),
    ],
)
def test_q_matches_folded_substrings_of_names_email_and_company(api_client, people, query, expected):
    assert found(api_client, q=query) == ids(*(people[name] for name in expected))


def test_a_pasted_customer_id_finds_that_customer_in_any_case(api_client, people):
    customer = people["emile"]
    assert found(api_client, q=str(customer.pk).upper()) == ids(customer)
    assert found(api_client, q=f"  {customer.pk}  ") == ids(customer)
    assert found(api_client, q=str(uuid.uuid4())) == set()


def test_another_merchants_customer_id_is_not_found(api_client, other_merchant, people):
    theirs = CustomerFactory(merchant=other_merchant, firstname="Ada", lastname="Lovelace")
    assert found(api_client, q=str(theirs.pk)) == set()
    assert str(theirs.pk) not in found(api_client, q="ada lovelace")


def test_search_sees_every_write_at_once(api_client, merchant):
    customer = customer_create(merchant=merchant, data={"firstname": "Grace", "lastname": "Hopper"})
    assert found(api_client, q="grace hopper") == ids(customer)

    response = api_client.patch(detail_url(customer.pk), {"lastname": "Brewster"}, format="json")
    assert response.status_code == 200, response.content
    assert found(api_client, q="grace hopper") == set()
    assert found(api_client, q="brewster grace") == ids(customer)

    response = api_client.put(detail_url(customer.pk), {"company": "Navy Labs"}, format="json")
    assert response.status_code == 200, response.content
    assert found(api_client, q="grace") == set()
    assert found(api_client, q="navy lab") == ids(customer)
    assert found(api_client, company="NAVY LABS") == ids(customer)


def test_q_keeps_the_newest_first_order_and_keyset_pages(api_client, merchant):
    made = [customer_create(merchant=merchant, data={"firstname": f"Émilie {i}"}) for i in range(5)]
    CustomerFactory(merchant=merchant, firstname="Other")
    pages, cursor = [], None
    while True:
        response = api_client.get(URL, {"q": "emilie", "limit": 2, **({"cursor": cursor} if cursor else {})})
        body = response.json()
        pages.append([item["customer_id"] for item in body["data"]])
        if not body["has_more"]:
            break
        cursor = body["next_cursor"]
    assert [customer_id for page in pages for customer_id in page] == [str(c.pk) for c in reversed(made)]
    assert len(pages) == 3


# --- company= and custom fields -----------------------------------------------------------------


def test_company_matches_the_whole_name_ignoring_case_and_accents(api_client, merchant):
    gmbh = CustomerFactory(merchant=merchant, company="Müller GmbH")
    CustomerFactory(merchant=merchant, company="Müller GmbH & Co. KG")
    assert found(api_client, company="müller gmbh") == ids(gmbh)
    assert found(api_client, company="MULLER  GMBH") == ids(gmbh)
    assert found(api_client, company="Müller") == set()


def test_a_custom_field_filter_reads_one_merchants_rows(api_client, merchant, other_merchant):
    ours = CustomFieldFactory(customer=CustomerFactory(merchant=merchant), name="tier", value="gold").customer
    CustomFieldFactory(customer=CustomerFactory(merchant=other_merchant), name="tier", value="gold")
    CustomFieldFactory(customer=CustomerFactory(merchant=merchant), name="tier", value="silver")
    assert found(api_client, **{"custom_fields[tier]": "gold"}) == ids(ours)


# --- bad input ------------------------------------------------------------------------------------


def test_a_search_longer_than_the_maximum_is_a_400_naming_q(api_client, people):
    response = api_client.get(URL, {"q": "a" * 10_000})
    assert_problem(response, 400)
    assert error_fields(response) == {"q": ["search_too_long"]}
    assert f"at most {MAX_QUERY_LENGTH} characters" in response.content.decode()
    assert api_client.get(URL, {"q": "a" * MAX_QUERY_LENGTH}).status_code == 200


@pytest.mark.parametrize("query", ["   ", "\u202e", "\u0301\u0301", "\u200b\u200d", "\t"])
def test_a_search_of_nothing_visible_lists_every_customer(api_client, people, query):
    assert found(api_client, q=query) == ids(*people.values())


@pytest.mark.parametrize("query", ["%", "%%%", "_", "__", "a%", "%ada%", "\\", "[a-z]", "(^| )a", ".*"])
def test_wildcards_and_pattern_characters_match_only_themselves(api_client, merchant, people, query):
    literal = CustomerFactory(merchant=merchant, firstname=None, lastname=None, email=None, company=f"x {query} y")
    assert found(api_client, q=query) == ids(literal)


def test_nul_in_q_is_a_400(api_client):
    response = api_client.get(URL, {"q": "ada\x00"})
    assert_problem(response, 400)
    assert error_fields(response) == {"q": ["null_characters_not_allowed"]}


def test_invalid_utf8_and_lone_surrogates_are_an_ordinary_search(api_client, people):
    for raw in ["%ED%A0%80", "%FF%FE", "ada%ED%B0%80"]:
        response = api_client.get(f"{URL}?q={raw}")
        assert response.status_code == 200, response.content


def test_an_override_inside_a_name_is_ignored_on_both_sides(api_client, merchant):
    hidden = customer_create(merchant=merchant, data={"firstname": "Ada\u202e", "lastname": "Lo\u200bvelace"})
    assert found(api_client, q="ada lovelace") == ids(hidden)
    assert found(api_client, q="lovel\u202eace") == ids(hidden)


# --- queries per request --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        lambda people: {"q": "ad"},
        lambda people: {"q": "ada lovelace"},
        lambda people: {"q": str(people["ada"].pk).upper()},
        lambda people: {"company": "canada post"},
        lambda people: {"custom_fields[tier]": "gold", "q": "jean"},
    ],
)
def test_a_search_costs_the_same_queries_as_a_plain_list(api_client, people, django_assert_num_queries, params):
    CustomFieldFactory(customer=people["canada"], name="tier", value="gold")
    with CaptureQueriesContext(connection) as plain_list:
        assert found(api_client)
    with django_assert_num_queries(len(plain_list)):
        assert found(api_client, **params(people))


# --- the portal's search box ---------------------------------------------------------------------


def test_the_portal_search_box_finds_a_full_name_without_accents(portal_staff_client, people):
    response = portal_staff_client.get("/portal/customers/", {"q": "jurgen muller"})
    assert response.status_code == 200
    assert [customer.pk for customer, _country in response.context["rows"]] == [people["muller"].pk]


def test_the_portal_shows_a_too_long_search_beside_the_box(portal_staff_client, people):
    response = portal_staff_client.get("/portal/customers/", {"q": "x" * 1000})
    assert response.status_code == 200
    assert "at most 200 characters" in response.context["filter_form"].errors["q"][0]


# --- PostgreSQL: the trigram index can serve every kind of term -----------------------------------


@pytest.mark.postgres_only
@pytest.mark.parametrize("query", ["First777777", "zzqx", "ada lovelace", "ad", "q", "%_", "c777@gmail.com"])
def test_postgresql_can_answer_each_kind_of_search_from_the_trigram_index(db, query):
    from core.scoping import scopes_disabled
    from customers.search import search_condition

    with scopes_disabled():
        sql, params = Customer.objects.filter(search_condition(query)).only("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        # With no scan of the whole table allowed, the plan shows whether pg_trgm can use the pattern at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Bitmap Index Scan on customer_search_trgm" in plan, plan
    assert "Seq Scan" not in plan, plan


# --- property: the API finds what the folding rules say, on either database -----------------------

SCRIPTS = st.sampled_from(
    [
        "abcdeéèêëfghiïîjklmnñoöpqrsßtuüvwxyzAÄÉÖÜ",  # Latin with diacritics
        "İıIiŞşĞğÇç",  # Turkish dotted and dotless i
        "αβγδεζηθικλμνξοπρσςτυφχψωΣΆΈΊ",  # Greek, final sigma
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяЁЙ",  # Cyrillic
        "אבגדהוזחטיכלמנסעפצקרשת",  # Hebrew
        "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",  # Arabic
        "अआइईउऊएऐओऔकखगघङचछजझञ",  # Devanagari
        "日本語漢字東京大阪山田太郎",  # CJK
        "ひらがなカタカナがぎぐパピ",  # kana with voicing marks
        "한국어김이박최",  # Hangul
        "ﬁﬂＡＢＣ①ǅ",  # compatibility forms
    ]
)


@st.composite
def names(draw):
    alphabet = draw(SCRIPTS)
    return draw(st.text(alphabet=alphabet + " .-", min_size=1, max_size=12))


def reference_matches(query: str, customers: list[tuple[str, str, str]]) -> set[str]:
    """What customers/search.py promises, computed without any database."""
    term = fold(query)
    result = set()
    for pk, first, last in customers:
        values = [fold(first), fold(last), fold(f"{first} {last}"), fold(f"{last} {first}")]
        if not term:
            hit = True
        elif len(term) >= 3:
            hit = any(term in value for value in values)
        else:
            hit = any(word.startswith(term) for value in values for word in value.split(" "))
        if hit:
            result.add(pk)
    return result


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(st.tuples(names(), names()), min_size=1, max_size=6), data=st.data())
def test_what_the_api_finds_is_what_the_folding_rules_promise_in_every_script(api_client_for, people, data):
    merchant = MerchantFactory()
    client = api_client_for(merchant)
    stored = []
    for first, last in people:
        if not (first.strip() or last.strip()):
            continue
        customer = customer_create(merchant=merchant, data={"firstname": first, "lastname": last})
        stored.append((str(customer.pk), customer.firstname, customer.lastname))
    first, last = data.draw(st.sampled_from(people))
    source = data.draw(st.sampled_from([first, last, f"{first} {last}", f"{last} {first}"]))
    start = data.draw(st.integers(0, max(len(source) - 1, 0)))
    query = data.draw(st.sampled_from([source[start : start + 2], source[start:], source.upper(), source.lower()]))
    query = query[:MAX_QUERY_LENGTH]
    assert found(client, q=query) == reference_matches(query, stored)
    assert Customer.objects.filter(merchant=merchant).count() == len(stored)


@pytest.mark.postgres_only
def test_postgresql_gets_each_search_term_in_the_statement_so_it_is_planned_for_that_term(merchant):
    from core.scoping import merchant_scope
    from customers.selectors import CustomerFilters, customer_queryset

    wanted = CustomerFactory(merchant=merchant, lastname="O'Brien%")
    CustomerFactory(merchant=merchant, lastname="O'Briens")
    with merchant_scope(merchant):
        query = customer_queryset(merchant=merchant, filters=CustomerFilters(q="O'Brien%")).query
    sql, params = query.get_compiler(connection=connection).as_sql()
    assert "o''brien" in sql, sql  # quoted by psycopg
    assert not any("brien" in str(param) for param in params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        assert [row[0] for row in cursor.fetchall()] == [wanted.pk]
