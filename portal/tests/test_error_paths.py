"""The small readers of ids and error paths the doors share."""

import uuid

from django import forms
from django.core.exceptions import ValidationError

from core.ids import parse_uuid
from customers.error_paths import custom_field_error_index
from portal.errors import show_domain_errors


def test_a_custom_field_error_path_gives_the_payload_index_and_the_input():
    assert custom_field_error_index("options.custom_fields[12].value") == (12, "value")
    assert custom_field_error_index("options.custom_fields[3]") == (3, None)
    assert custom_field_error_index("options.custom_fields") is None
    assert custom_field_error_index("email") is None


def test_a_malformed_id_parses_to_none():
    same = uuid.uuid4()
    assert parse_uuid(same) is same
    assert parse_uuid(str(same)) == same
    assert parse_uuid("not-a-uuid") is None
    assert parse_uuid(None) is None
    assert parse_uuid(["x"]) is None


class _EventsForm(forms.Form):
    url = forms.CharField()
    enabled_events = forms.MultipleChoiceField(choices=[("a", "a")], required=False)


def test_an_error_on_an_item_of_a_list_input_goes_beside_that_input():
    form = _EventsForm({"url": "x"})
    assert form.is_valid()
    show_domain_errors(
        ValidationError({"enabled_events[1]": ["Unknown event."], "url": ["Bad URL."], "other": ["Elsewhere."]}),
        form=form,
    )

    assert form.errors["enabled_events"] == ["Unknown event."]
    assert form.errors["url"] == ["Bad URL."]
    assert form.non_field_errors() == ["Elsewhere."]
