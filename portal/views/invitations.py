"""Where an invited person accepts a membership, from the link an admin of the merchant handed them.

A new account chooses its first password here and is logged in; an account that
has a password must be logged in as itself and press "Join". The link is good for
one pending membership only, and accepting it changes no other.
"""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from merchants.models import MerchantMembership
from merchants.selectors import invitation_get
from merchants.services import InvitationRefused, account_may_be_claimed, invitation_accept
from portal.access import ACTIVE_MERCHANT_SESSION_KEY

# The backend that checks passwords; the lock-out backend before it only refuses.
CHECKING_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _no_longer_works(request):
    return render(request, "portal/invitations/invalid.html", status=404)


def _joined(request, membership: MerchantMembership):
    request.session[ACTIVE_MERCHANT_SESSION_KEY] = str(membership.merchant_id)
    messages.success(request, f"You joined {membership.merchant.name} as {membership.get_role_display().lower()}.")
    return redirect("portal:home")


@require_http_methods(["GET", "POST"])
def invitation_accept_view(request, membership_pk, token):
    invitation = invitation_get(membership_id=membership_pk, token=token)
    if invitation is None:
        # Unknown, used, replaced, withdrawn or expired: one answer for all.
        return _no_longer_works(request)
    invitee = invitation.user
    context = {"invitation": invitation, "merchant": invitation.merchant}
    if request.user.is_authenticated and request.user.pk != invitee.pk:
        return render(request, "portal/invitations/wrong_account.html", context, status=403)

    if not invitee.has_usable_password():
        if not account_may_be_claimed(invitee):
            return render(request, "portal/invitations/cannot_claim.html", context, status=403)
        form = SetPasswordForm(invitee, request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                membership = invitation_accept(
                    membership_id=invitation.pk, token=token, password=form.cleaned_data["new_password1"]
                )
            except InvitationRefused:
                return _no_longer_works(request)
            login(request, membership.user, backend=CHECKING_BACKEND)
            return _joined(request, membership)
        status = 400 if form.errors else 200
        return render(request, "portal/invitations/set_password.html", {**context, "form": form}, status=status)

    if not request.user.is_authenticated:
        messages.info(request, f"Log in to accept the invitation to {invitation.merchant.name}.")
        return redirect_to_login(request.get_full_path())
    if request.method == "POST":
        try:
            membership = invitation_accept(membership_id=invitation.pk, token=token, user=request.user)
        except InvitationRefused:
            return _no_longer_works(request)
        return _joined(request, membership)
    return render(request, "portal/invitations/join.html", context)
