"""Portal pages of API credentials (admin): issue a client, see when it was last used, roll its secret, revoke it."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from merchants.models import OAuthClient
from merchants.selectors import merchant_client_get, merchant_clients
from merchants.services import SECRET_GRACE_PERIODS, oauth_client_create, oauth_client_revoke, oauth_client_roll_secret
from portal.access import portal_view
from portal.errors import show_domain_errors
from portal.forms import ClientForm, RollSecretForm
from portal.shown_once import keep_for_one_showing, take_shown_once

SHOWN_ONCE_KIND = "api_client_secret"


def _client_or_404(request, client_pk) -> OAuthClient:
    try:
        return merchant_client_get(merchant=request.merchant, client_pk=client_pk)
    except OAuthClient.DoesNotExist:
        raise Http404("No such API client.") from None


@portal_view(admin_only=True)
@require_http_methods(["GET", "POST"])
def client_list_view(request):
    form = ClientForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = oauth_client_create(
                merchant=request.merchant,
                name=form.cleaned_data["name"] or "API client",
                access=form.cleaned_data["access"] or OAuthClient.Access.READ_WRITE,
            )
        except ValidationError as error:  # e.g. the merchant has the most API clients allowed
            show_domain_errors(error, form=form)
        else:
            keep_for_one_showing(
                request,
                SHOWN_ONCE_KIND,
                {"client_pk": issued.client.pk, "secret": issued.client_secret, "rolled": False},
                message=f"API client “{issued.client.name}” created. Copy its secret now.",
            )
            return redirect("portal:client_secret")
    return render(
        request,
        "portal/credentials/list.html",
        {"form": form, "clients": merchant_clients(merchant=request.merchant)},
        status=400 if form.errors else 200,
    )


@portal_view(admin_only=True)
@require_GET
def client_secret_view(request):
    """The new secret, once: the GET after the create (or roll) redirected here; a reload finds nothing to show."""
    kept = take_shown_once(request, SHOWN_ONCE_KIND)
    client = None
    if kept is not None:
        client = merchant_clients(merchant=request.merchant).filter(pk=kept["client_pk"]).first()
    if client is None:
        messages.info(
            request,
            "A client secret is shown only once, right after it is made, and is not kept. "
            "If it was not copied, roll the client's secret to get a new one.",
        )
        return redirect("portal:client_list")
    return render(
        request,
        "portal/credentials/created.html",
        {"client": client, "client_secret": kept["secret"], "rolled": kept["rolled"]},
    )


@portal_view(admin_only=True)
@require_http_methods(["GET", "POST"])
def client_roll_view(request, client_pk):
    client = _client_or_404(request, client_pk)
    form = RollSecretForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        rolled = oauth_client_roll_secret(
            merchant=request.merchant, client=client, grace=SECRET_GRACE_PERIODS[form.cleaned_data["grace"]]
        )
        keep_for_one_showing(
            request,
            SHOWN_ONCE_KIND,
            {"client_pk": rolled.client.pk, "secret": rolled.client_secret, "rolled": True},
            message=f"New secret for “{client.name}”. Copy it now.",
        )
        return redirect("portal:client_secret")
    return render(
        request, "portal/credentials/roll.html", {"client": client, "form": form}, status=400 if form.errors else 200
    )


@portal_view(admin_only=True)
@require_http_methods(["GET", "POST"])
def client_revoke_view(request, client_pk):
    client = _client_or_404(request, client_pk)
    if request.method == "POST":
        oauth_client_revoke(merchant=request.merchant, client=client)
        messages.success(request, f"API client “{client.name}” revoked: its tokens no longer work.")
        return redirect("portal:client_list")
    return render(request, "portal/credentials/confirm_revoke.html", {"client": client})
