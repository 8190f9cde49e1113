import datetime

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_POST

from customers.selectors import customer_count_capped, customer_imports_running_count
from events.selectors import webhook_endpoints_failing_count
from merchants.models import MerchantMembership
from portal.access import ACTIVE_MERCHANT_SESSION_KEY, portal_memberships, portal_view
from portal.forms import EmailLoginForm

# Home page figures count at most this many customers, then say "more than".
HOME_COUNT_CAP = 10_000


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = EmailLoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    # Not registration/password_change_form.html: that name belongs to Django admin's own page.
    template_name = "registration/portal_password_change.html"
    success_url = reverse_lazy("portal:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/portal_password_change_done.html"


def _start_of_week() -> datetime.datetime:
    """Monday 00:00 of this week in the active time zone (the merchant's)."""
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    return datetime.datetime.combine(monday, datetime.time.min, tzinfo=timezone.get_current_timezone())


@portal_view
def home_view(request):
    # Figures for what the member's role may open: the webhooks' health is for admins, as their page is.
    figures = {
        "customers": customer_count_capped(merchant=request.merchant, cap=HOME_COUNT_CAP),
        "created_this_week": customer_count_capped(
            merchant=request.merchant, created_after=_start_of_week(), cap=HOME_COUNT_CAP
        ),
        "imports_running": customer_imports_running_count(merchant=request.merchant),
    }
    if request.membership.role == MerchantMembership.Role.ADMIN:
        figures["webhooks_failing"] = webhook_endpoints_failing_count(merchant=request.merchant, now=timezone.now())
    return render(request, "portal/home.html", {"figures": figures})


@require_POST
@portal_view
def switch_merchant_view(request):
    wanted = request.POST.get("merchant", "")
    for membership in portal_memberships(request):
        if str(membership.merchant_id) == wanted:
            request.session[ACTIVE_MERCHANT_SESSION_KEY] = wanted
            messages.success(request, f"You are now working in {membership.merchant.name}.")
            return redirect("portal:home")
    return HttpResponseBadRequest("You are not a member of that merchant.")
