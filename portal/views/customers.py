import functools

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import AuditEntry
from audit.selectors import customer_history
from audit.services import Actor
from customers import export_jobs
from customers.contact import ADDRESS_COLUMNS, address_labels, phone_national
from customers.countries import country_choices, country_name
from customers.exceptions import ReferenceInUse, VersionMismatch
from customers.models import Customer
from customers.selectors import (
    EXACT_COUNT_LIMIT,
    SORTS,
    CustomerTotal,
    customer_get,
    customer_list,
    customer_total,
    customers_of,
)
from customers.services import customer_create, customer_delete, customer_replace
from merchants.models import MerchantMembership
from portal.access import portal_view
from portal.errors import show_domain_errors
from portal.forms import (
    CustomerFilterForm,
    CustomerForm,
    custom_field_formset,
    custom_fields_payload,
    with_one_more_row,
)

PAGE_SIZES = (25, 50, 100)
PAGE_SIZE = PAGE_SIZES[0]


def _actor(request) -> Actor:
    return Actor.for_user(request.user, AuditEntry.Door.PORTAL)


def _customer_or_404(request, customer_id) -> Customer:
    try:
        return customer_get(merchant=request.merchant, customer_id=customer_id)
    except Customer.DoesNotExist:
        raise Http404("No such customer.") from None


def page_size_of(value: str | None) -> int:
    """The `size` of the query string when it is one of PAGE_SIZES; otherwise (anything at all) the default."""
    return int(value) if value in {str(size) for size in PAGE_SIZES} else PAGE_SIZE


def total_in_words(total: CustomerTotal) -> str:
    """ "1 customer", "9,412 customers", "about 48,000 customers", "about 1.2 million customers"."""
    if total.exact:
        return f"{total.count:,} customer{'' if total.count == 1 else 's'}"
    count = total.count
    if count <= EXACT_COUNT_LIMIT + 1:
        # No estimate (SQLite), or one below what was counted: say what is known.
        return f"more than {EXACT_COUNT_LIMIT:,} customers"
    for size, word in ((10**9, "billion"), (10**6, "million")):
        if count >= size:
            return f"about {f'{count / size:.1f}'.removesuffix('.0')} {word} customers"
    digits = len(str(count)) - 2  # two significant figures
    return f"about {round(count, -digits):,} customers"


def _total_sentence(total: CustomerTotal, *, filtered: bool) -> str:
    words = total_in_words(total)
    if not filtered:
        return words
    return f"{words} {'matches' if total.exact and total.count == 1 else 'match'} these filters"


def _list_params(request):
    """The query string with `size` made valid: an unknown size is the default, never an error."""
    params = request.GET.copy()
    if "size" in params:
        params["size"] = str(page_size_of(params.get("size")))
    return params


@portal_view
def customer_list_view(request):
    params = _list_params(request)
    filter_form = CustomerFilterForm(params or None)
    if filter_form.is_bound and not filter_form.is_valid():
        # Errors beside the inputs; an unfiltered list would pass for the filtered one.
        return render(request, "portal/customers/list.html", {"filter_form": filter_form, "rows": [], "filtered": True})
    filters = filter_form.filters()
    sort = filter_form.chosen_sort()
    size = page_size_of(params.get("size"))
    cursor, before = params.get("cursor") or None, params.get("before") or None
    if cursor and before:
        cursor = None  # a hand-made link: "before" wins, as "Previous" does
    total = customer_total(merchant=request.merchant, filters=filters)
    try:
        page = customer_list(
            merchant=request.merchant,
            filters=filters,
            cursor=cursor,
            before=before,
            limit=size,
            sort=sort,
            with_custom_fields=False,
            few_matches=filters is not None and total.exact,
        )
    except ValidationError:
        messages.warning(request, "That page link is no longer valid; showing the first page.")
        page = customer_list(
            merchant=request.merchant, filters=filters, limit=size, sort=sort, with_custom_fields=False
        )
    if not page.customers and (cursor or before):
        # Every customer past the link's row was deleted meanwhile: the first page, not "No customers yet".
        page = customer_list(
            merchant=request.merchant, filters=filters, limit=size, sort=sort, with_custom_fields=False
        )
    query = params.copy()
    for name in ("cursor", "before"):
        query.pop(name, None)

    def link(name: str, value: str) -> str:
        linked = query.copy()
        linked[name] = value
        return linked.urlencode()

    rows = [(customer, country_name(customer.address_country)) for customer in page.customers]
    is_first_page = page.previous_cursor is None
    filtered = any(params.get(k) for k in ("q", "country", "created_from", "created_to"))
    return render(
        request,
        "portal/customers/list.html",
        {
            "filter_form": filter_form,
            "rows": rows,
            "total": _total_sentence(total, filtered=filtered),
            "is_first_page": is_first_page,
            "first_page_query": query.urlencode(),
            "previous_page_query": None if is_first_page else link("before", page.previous_cursor),
            "next_page_query": link("cursor", page.next_cursor) if page.next_cursor else None,
            "filtered": filtered,
        },
    )


def _selected_ids(request) -> list[str]:
    return request.POST.getlist("customer_ids")


@portal_view
@require_POST
def customers_selected_view(request):
    """The list's bulk actions on the ticked rows: "Export selected" starts an export; "Delete selected" asks first.

    Only the merchant's own customers are acted on: other merchants' ids and unknown ids are left out,
    as if they had not been sent.
    """
    sort = request.POST.get("sort")
    if request.POST.get("action") == "export":
        export = export_jobs.export_selected_start(
            merchant=request.merchant,
            user=request.user,
            customer_ids=_selected_ids(request),
            sort=sort if sort in SORTS else None,
        )
        if export is None:
            messages.warning(request, "Select the customers to export first.")
            return redirect("portal:customer_list")
        messages.info(request, "Exporting the selected customers: the download link appears on this page when ready.")
        return redirect("portal:export_status", export_id=export.pk)
    customers = customers_of(merchant=request.merchant, customer_ids=_selected_ids(request))
    if not customers:
        messages.warning(request, "Select the customers to delete first.")
        return redirect("portal:customer_list")
    return render(request, "portal/customers/confirm_delete_selected.html", {"customers": customers})


@portal_view
@require_POST
def customers_selected_delete_view(request):
    """Delete the confirmed selection, each through customer_delete, all or none."""
    customers = customers_of(merchant=request.merchant, customer_ids=_selected_ids(request))
    if not customers:
        messages.warning(request, "Select the customers to delete first.")
        return redirect("portal:customer_list")
    with transaction.atomic():
        for customer in customers:
            customer_delete(customer=customer, actor=_actor(request))
    count = len(customers)
    messages.success(request, f"{count} customer{'' if count == 1 else 's'} deleted.")
    return redirect("portal:customer_list")


def _save_form(request, *, customer: Customer | None):
    """Create (customer None) or replace a customer from the POSTed form; (response, form, formset)."""
    if "add_row" in request.POST:
        form = CustomerForm(request.POST)
        formset = custom_field_formset(data=with_one_more_row(request.POST))
        form.is_valid()
        return None, form, formset
    form = CustomerForm(request.POST)
    formset = custom_field_formset(data=request.POST)
    if not (form.is_valid() and formset.is_valid()):
        if formset.non_form_errors():
            form.add_error(None, formset.non_form_errors())
        return None, form, formset
    items, rows = custom_fields_payload(formset)
    payload = form.payload() | {"options": {"custom_fields": items}}
    try:
        if customer is None:
            saved = customer_create(merchant=request.merchant, data=payload, actor=_actor(request))
            messages.success(request, f"Customer “{saved}” created.")
        else:
            saved = customer_replace(
                customer=customer,
                data=payload,
                actor=_actor(request),
                expected_version=form.cleaned_data.get("version"),
            )
            messages.success(request, f"Customer “{saved}” saved.")
    except ValidationError as error:
        show_domain_errors(error, form=form, formset=formset, rows=rows)
        return None, form, formset
    except ReferenceInUse as error:
        form.add_error("reference", str(error))
        return None, form, formset
    except VersionMismatch:
        form.add_error(
            None,
            "Someone changed this customer since you opened this page. Your changes are below but were not saved: "
            "open the customer again to see the current data, then redo your changes.",
        )
        return None, form, formset
    return redirect("portal:customer_detail", customer_id=saved.customer_id), form, formset


@functools.cache
def _address_labels_by_country() -> dict[str, dict]:
    """Each country's names of the address parts, for the form's script to rename the inputs with the country."""
    by_country = {}
    for code, _name in [("", ""), *country_choices()]:
        labels = address_labels(code or None)
        by_country[code] = {
            **{part: getattr(labels, part) for part in ADDRESS_COLUMNS},
            "has_region": labels.has_region,
            "has_postal_code": labels.has_postal_code,
        }
    return by_country


def _render_form(request, *, form, formset, customer: Customer | None, status: int = 200):
    return render(
        request,
        "portal/customers/form.html",
        {
            "form": form,
            "formset": formset,
            "customer": customer,
            "refused": status == 400,
            "address_labels": _address_labels_by_country(),
        },
        status=status,
    )


@portal_view
@require_http_methods(["GET", "POST"])
def customer_create_view(request):
    if request.method == "POST":
        response, form, formset = _save_form(request, customer=None)
        if response:
            return response
        return _render_form(request, form=form, formset=formset, customer=None, status=_status(request, form, formset))
    return _render_form(request, form=CustomerForm(), formset=custom_field_formset(extra=2), customer=None)


@portal_view
@require_http_methods(["GET", "POST"])
def customer_edit_view(request, customer_id):
    customer = _customer_or_404(request, customer_id)
    if request.method == "POST":
        response, form, formset = _save_form(request, customer=customer)
        if response:
            return response
        status = _status(request, form, formset)
        return _render_form(request, form=form, formset=formset, customer=customer, status=status)
    form = CustomerForm(
        initial={
            "firstname": customer.firstname,
            "lastname": customer.lastname,
            "email": customer.email,
            "company": customer.company,
            # E.164: what the customer's national format means depends on the country, which may change here.
            "phone": customer.phone,
            "reference": customer.reference,
            "address_country": customer.address_country,
            **{column: getattr(customer, column) for column in ADDRESS_COLUMNS.values()},
            "version": customer.version,
        }
    )
    initial = [{"name": f.name, "type": f.type, "value": f.value} for f in customer.custom_fields.all()]
    formset = custom_field_formset(initial=initial, extra=1)
    return _render_form(request, form=form, formset=formset, customer=customer)


def _status(request, form, formset) -> int:
    """400 when the input was refused; 200 when the page was only redrawn with one more row."""
    if "add_row" in request.POST:
        return 200
    return 400 if (form.errors or any(f.errors for f in formset.forms)) else 200


@portal_view
def customer_detail_view(request, customer_id):
    customer = _customer_or_404(request, customer_id)
    # The audit trail (who changed what, through which door) is for the merchant's admins.
    is_admin = request.membership.role == MerchantMembership.Role.ADMIN
    history = []
    if is_admin:
        history = customer_history(merchant=request.merchant, customer_id=customer.customer_id)
    labels = address_labels(customer.address_country)
    address = [
        (getattr(labels, part), getattr(customer, column))
        for part, column in ADDRESS_COLUMNS.items()
        if getattr(customer, column)
    ]
    return render(
        request,
        "portal/customers/detail.html",
        {
            "customer": customer,
            "country": country_name(customer.address_country),
            "phone_national": phone_national(customer.phone),
            "address": address,
            "history": history,
        },
    )


@portal_view
@require_http_methods(["GET", "POST"])
def customer_delete_view(request, customer_id):
    customer = _customer_or_404(request, customer_id)
    if request.method == "POST":
        label = str(customer)
        customer_delete(customer=customer, actor=_actor(request))
        messages.success(request, f"Customer “{label}” deleted.")
        return redirect(reverse("portal:customer_list"))
    return render(request, "portal/customers/confirm_delete.html", {"customer": customer})
