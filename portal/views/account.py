from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from portal.access import ACTIVE_MERCHANT_SESSION_KEY, portal_memberships, portal_view
from portal.forms import EmailLoginForm


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


@portal_view
def home_view(request):
    return render(request, "portal/home.html")


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
