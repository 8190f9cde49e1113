from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from merchants.models import OAuthClient
from merchants.selectors import merchant_client_get, merchant_clients
from merchants.services import oauth_client_create, oauth_client_revoke
from portal.access import portal_view
from portal.errors import show_domain_errors
from portal.forms import ClientForm
from portal.shown_once import render_shown_once


@portal_view(admin_only=True)
@require_http_methods(["GET", "POST"])
def client_list_view(request):
    form = ClientForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = oauth_client_create(merchant=request.merchant, name=form.cleaned_data["name"] or "API client")
        except ValidationError as error:  # e.g. the merchant has the most API clients allowed
            show_domain_errors(error, form=form)
        else:
            return render_shown_once(
                request,
                "portal/credentials/created.html",
                {"issued": issued},
                message=f"API client “{issued.client.name}” created. Copy its secret now.",
            )
    return render(
        request,
        "portal/credentials/list.html",
        {"form": form, "clients": merchant_clients(merchant=request.merchant)},
        status=400 if form.errors else 200,
    )


@portal_view(admin_only=True)
@require_http_methods(["GET", "POST"])
def client_revoke_view(request, client_pk):
    try:
        client = merchant_client_get(merchant=request.merchant, client_pk=client_pk)
    except OAuthClient.DoesNotExist:
        raise Http404("No such API client.") from None
    if request.method == "POST":
        oauth_client_revoke(merchant=request.merchant, client=client)
        messages.success(request, f"API client “{client.name}” revoked: its tokens no longer work.")
        return redirect("portal:client_list")
    return render(request, "portal/credentials/confirm_revoke.html", {"client": client})
