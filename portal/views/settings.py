from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from merchants.services import merchant_set_time_zone
from portal.access import portal_view
from portal.errors import show_domain_errors
from portal.forms import MerchantSettingsForm


@portal_view(admin_only=True)
@require_http_methods(["GET", "POST"])
def merchant_settings_view(request):
    if request.method == "POST":
        form = MerchantSettingsForm(request.POST)
        if form.is_valid():
            try:
                merchant_set_time_zone(merchant=request.merchant, time_zone=form.cleaned_data["time_zone"])
            except ValidationError as error:
                show_domain_errors(error, form=form)
            else:
                messages.success(request, f"Times are now shown in {request.merchant.time_zone}.")
                return redirect("portal:merchant_settings")
        return render(request, "portal/settings/edit.html", {"form": form}, status=400)
    form = MerchantSettingsForm(initial={"time_zone": request.merchant.time_zone})
    return render(request, "portal/settings/edit.html", {"form": form})
