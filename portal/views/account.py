import datetime
import math

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_POST

from customers.selectors import customer_count_capped, customer_imports_running_count
from events.selectors import webhook_endpoints_failing_count
from merchants.mail import may_reset_password_by_email
from merchants.models import MerchantMembership
from merchants.reset_throttle import password_reset_wait
from portal.access import ACTIVE_MERCHANT_SESSION_KEY, portal_memberships, portal_view
from portal.forms import EmailLoginForm, QueuedPasswordResetForm

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


# Account recovery: Django's own views, with the portal's templates (prefixed, like the password change's:
# the registration/password_reset_*.html names belong to Django admin's pages).
class PasswordResetView(auth_views.PasswordResetView):
    """Asks for an email address; the same answer whether it has an account or not, and limited per
    email address and per client address (merchants/reset_throttle.py)."""

    template_name = "registration/portal_password_reset_form.html"
    form_class = QueuedPasswordResetForm
    success_url = reverse_lazy("portal:password_reset_done")

    def form_valid(self, form):
        wait = password_reset_wait(
            email=form.cleaned_data["email"], client_address=self.request.META.get("REMOTE_ADDR")
        )
        if wait is not None:
            response = render(
                self.request,
                "registration/portal_password_reset_limited.html",
                {"minutes": max(1, math.ceil(wait / 60))},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/portal_password_reset_done.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"timeout_days": settings.PASSWORD_RESET_TIMEOUT // 86400}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link's page: a new password, once. The link stops working when the password changes."""

    template_name = "registration/portal_password_reset_confirm.html"
    success_url = reverse_lazy("portal:password_reset_complete")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and may_reset_password_by_email(user) else None

    def dispatch(self, *args, **kwargs):
        response = super().dispatch(*args, **kwargs)
        if not self.validlink and response.status_code == 200:
            response.status_code = 404  # used, expired or made up: the page says so
        return response

    def form_valid(self, form):
        response = super().form_valid(form)
        # Whoever chose the new password holds the mailbox: failed log-ins counted against the old
        # one (merchants/login_lockout.py) no longer pause this account.
        axes_reset(username=self.user.get_username())
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/portal_password_reset_complete.html"


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
