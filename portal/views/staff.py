from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from merchants.mail import invitation_email_send
from merchants.models import MerchantMembership
from merchants.selectors import merchant_member_get, merchant_members
from merchants.services import (
    IssuedInvitation,
    invitation_reissue,
    membership_invite,
    membership_remove,
    membership_set_role,
)
from portal.access import portal_view
from portal.errors import show_domain_errors
from portal.forms import InviteForm, RoleForm
from portal.shown_once import render_shown_once


def _member_or_404(request, membership_pk) -> MerchantMembership:
    try:
        return merchant_member_get(merchant=request.merchant, membership_id=membership_pk)
    except MerchantMembership.DoesNotExist:
        raise Http404("No such member.") from None


def _render_list(request, *, form, status=200):
    members = [
        (m, RoleForm(initial={"role": m.role}, prefix=f"m{m.pk}")) for m in merchant_members(merchant=request.merchant)
    ]
    return render(request, "portal/staff/list.html", {"form": form, "members": members}, status=status)


def _render_invitation(request, invitation: IssuedInvitation):
    """Mail the link, and show it once too: the same for a new address and an existing account."""
    path = reverse(
        "portal:invitation_accept", kwargs={"membership_pk": invitation.membership.pk, "token": invitation.token}
    )
    link = request.build_absolute_uri(path)
    role = invitation.membership.get_role_display()
    emailed = invitation_email_send(email=invitation.email, merchant_name=request.merchant.name, role=role, link=link)
    return render_shown_once(
        request,
        "portal/staff/invited.html",
        {
            "membership": invitation.membership,
            "email": invitation.email,
            "emailed": emailed,
            "link": link,
            "timeout_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
        },
        message=f"Invitation for {invitation.email} ({role.lower()}) created.",
    )


@portal_view(admin_only=True)
@require_http_methods(["GET", "POST"])
def staff_list_view(request):
    form = InviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = membership_invite(
                merchant=request.merchant, email=form.cleaned_data["email"], role=form.cleaned_data["role"]
            )
        except ValidationError as error:
            show_domain_errors(error, form=form)
        else:
            return _render_invitation(request, invitation)
    return _render_list(request, form=form, status=400 if form.errors else 200)


@require_POST
@portal_view(admin_only=True)
def staff_reinvite_view(request, membership_pk):
    """A fresh link for a pending invitation; the earlier one stops working."""
    membership = _member_or_404(request, membership_pk)
    try:
        invitation = invitation_reissue(merchant=request.merchant, membership=membership)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return _render_list(request, form=InviteForm(), status=400)
    return _render_invitation(request, invitation)


@require_POST
@portal_view(admin_only=True)
def staff_role_view(request, membership_pk):
    membership = _member_or_404(request, membership_pk)
    form = RoleForm(request.POST, prefix=f"m{membership.pk}")
    if form.is_valid():
        try:
            membership_set_role(merchant=request.merchant, membership=membership, role=form.cleaned_data["role"])
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return _render_list(request, form=InviteForm(), status=400)
        messages.success(request, f"{membership.shown_email} is now {form.cleaned_data['role']}.")
    return redirect("portal:staff_list")


@portal_view(admin_only=True)
@require_http_methods(["GET", "POST"])
def staff_remove_view(request, membership_pk):
    membership = _member_or_404(request, membership_pk)
    if request.method == "POST":
        try:
            membership_remove(merchant=request.merchant, membership=membership)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return _render_list(request, form=InviteForm(), status=400)
        if not membership.is_accepted:
            messages.success(request, f"The invitation of {membership.shown_email} was withdrawn.")
            return redirect("portal:staff_list")
        messages.success(request, f"{membership.shown_email} no longer has access to {request.merchant.name}.")
        if membership.user_id == request.user.pk:
            return redirect("portal:home")
        return redirect("portal:staff_list")
    return render(request, "portal/staff/confirm_remove.html", {"membership": membership})
