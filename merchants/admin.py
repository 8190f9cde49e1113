"""Django admin for operators: merchants with their API clients and staff, memberships, login lock-outs."""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from oauth2_provider.models import get_access_token_model, get_grant_model, get_id_token_model, get_refresh_token_model

from merchants.login_lockout import LockoutHandler, cool_off_for_failures
from merchants.models import Merchant, MerchantMembership, OAuthClient
from merchants.services import membership_remove, membership_set_role, oauth_client_create, oauth_client_revoke


class DomainRefusalAsMessage:
    """A ModelAdmin whose saves and deletes call services that may refuse with a ValidationError.

    The admin runs these views in one transaction: the refusal rolls all of it back
    and the operator is sent back to the page with the service's message.
    """

    def _refused(self, request, error: ValidationError) -> HttpResponseRedirect:
        self.message_user(request, " ".join(error.messages), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except ValidationError as error:
            return self._refused(request, error)

    def delete_view(self, request, *args, **kwargs):
        try:
            return super().delete_view(request, *args, **kwargs)
        except ValidationError as error:
            return self._refused(request, error)


def membership_save(membership: MerchantMembership) -> None:
    """Store an admin form's membership: a role change through the domain, which keeps the last admin."""
    if membership.pk is None:
        # Adding a member breaks no rule, and an operator's member is accepted at once (the field's default).
        # (membership_add finds people by email; the admin picks a user.)
        membership.save()
        return
    membership_set_role(merchant=membership.merchant, membership=membership, role=membership.role)


class MembershipForm(forms.ModelForm):
    """A membership's user and merchant are fixed once it exists; remove it and add another instead."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            for name in ("user", "merchant"):
                if name in self.fields:
                    self.fields[name].disabled = True


# django-oauth-toolkit registers its own ApplicationAdmin for the application model (OAuthClient here),
# where the merchant and the grant type are editable. Clients are issued by the merchant page's action
# (client credentials only) and revoked by deleting them inline.
if admin.site.is_registered(OAuthClient):
    admin.site.unregister(OAuthClient)

# Its tokens, grants and ID tokens are the token endpoint's business: an operator revokes a client's
# tokens by deleting the client on its merchant's page, and has nothing to edit in them.
for _toolkit_model in (get_access_token_model(), get_grant_model(), get_id_token_model(), get_refresh_token_model()):
    if admin.site.is_registered(_toolkit_model):
        admin.site.unregister(_toolkit_model)


class AdminIdColumn:
    """A ModelAdmin whose ids show in a monospace column that never wraps (static/css/admin.css)."""

    class Media:
        css = {"all": ["css/admin.css"]}


def id_column(field: str, description: str = "ID"):
    """A changelist column showing `field` as an id, e.g. list_display = [id_column("customer_id"), ...]."""

    @admin.display(description=description, ordering=field)
    def column(obj):
        return format_html('<code class="vault-id">{}</code>', getattr(obj, field))

    return column


class OAuthClientInline(admin.TabularInline):
    """Existing clients; new ones come from the "Issue an API client" action, which shows the secret once."""

    model = OAuthClient
    fk_name = "merchant"
    fields = ["name", "client_id", "allowed_scopes", "created", "last_used_at", "previous_secret_expires_at"]
    readonly_fields = ["client_id", "allowed_scopes", "created", "last_used_at", "previous_secret_expires_at"]
    extra = 0
    verbose_name_plural = "API clients (delete = revoke: its tokens stop working at once)"

    def has_add_permission(self, request, obj=None):
        return False


@admin.display(description="State")
def membership_state(membership: MerchantMembership) -> str:
    """Accepted, or a pending invitation from a portal (no access until the person accepts it)."""
    if membership.pk is None:
        return "-"
    return membership.state_label


class MembershipStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("accepted", "Accepted"), ("pending", "Invited (pending)")]

    def queryset(self, request, queryset):
        if self.value() == "accepted":
            return queryset.filter(accepted_at__isnull=False)
        if self.value() == "pending":
            return queryset.filter(accepted_at__isnull=True)
        return queryset


class MembershipInline(admin.TabularInline):
    """Members added here are accepted at once: the operator decides. Pending invitations show as such."""

    model = MerchantMembership
    form = MembershipForm
    fields = ["user", "role", membership_state, "created_at"]
    readonly_fields = [membership_state, "created_at"]
    autocomplete_fields = ["user"]
    extra = 1


@admin.register(Merchant)
class MerchantAdmin(DomainRefusalAsMessage, AdminIdColumn, admin.ModelAdmin):
    # search_fields also serve the merchant autocomplete of every other admin page that asks for a merchant.
    list_display = ["name", id_column("id"), "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "=id"]
    readonly_fields = ["id", "time_zone", "created_at", "updated_at"]  # the zone: set in the portal, checked there
    inlines = [OAuthClientInline, MembershipInline]
    actions = ["issue_api_client"]

    def save_formset(self, request, form, formset, change):
        if formset.model is MerchantMembership:
            formset.save(commit=False)
            saved = [*formset.new_objects, *(changed for changed, _fields in formset.changed_objects)]
            # New admins first, removals last: handing over the admin role in one submit is allowed.
            for membership in sorted(saved, key=lambda m: m.role != MerchantMembership.Role.ADMIN):
                membership_save(membership)
            for membership in formset.deleted_objects:
                membership_remove(merchant=form.instance, membership=membership)
            return
        if formset.model is not OAuthClient:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for client in formset.deleted_objects:
            oauth_client_revoke(merchant=form.instance, client=client)
        for client in formset.changed_objects:
            client[0].save(update_fields=["name"])

    @admin.action(description="Issue an API client (shows its secret once)")
    def issue_api_client(self, request, queryset):
        issued = []
        for merchant in queryset:
            try:
                issued.append(oauth_client_create(merchant=merchant, name=f"{merchant.name} API client"))
            except ValidationError as error:  # the merchant has its most clients: the others still get theirs
                messages.error(request, f"{merchant.name}: {' '.join(error.messages)}")
        if not issued:
            return None
        messages.success(request, f"Issued {len(issued)} API client(s). Copy the secrets now: they are not kept.")
        # NoStoreMiddleware keeps the page holding the secrets out of every cache.
        return TemplateResponse(
            request,
            "admin/merchants/issued_clients.html",
            {**self.admin_site.each_context(request), "title": "API clients issued", "issued": issued},
        )


@admin.register(MerchantMembership)
class MembershipAdmin(DomainRefusalAsMessage, admin.ModelAdmin):
    form = MembershipForm
    list_display = ["user", "merchant", "role", membership_state, "accepted_at", "created_at"]
    list_filter = ["role", MembershipStateFilter]
    list_select_related = ["user", "merchant"]
    search_fields = ["user__username", "user__email", "merchant__name"]
    autocomplete_fields = ["user", "merchant"]
    # The invitation's token digest is never shown; a membership added here is accepted when saved.
    fields = ["user", "merchant", "role", membership_state, "accepted_at", "invited_email", "created_at"]
    readonly_fields = [membership_state, "accepted_at", "invited_email", "created_at"]

    def save_model(self, request, obj, form, change):
        membership_save(obj)

    def delete_model(self, request, obj):
        membership_remove(merchant=obj.merchant, membership=obj)

    def delete_queryset(self, request, queryset):
        refused = []
        for membership in queryset.select_related("merchant", "user"):
            try:
                self.delete_model(request, membership)
            except ValidationError as error:
                refused.append(f"{membership.user} at {membership.merchant}: {' '.join(error.messages)}")
        if refused:
            self.message_user(request, "Not removed: " + " · ".join(refused), messages.ERROR)


# django-axes registers its failed-login records; this admin is axes' own with the project's handler (its
# "Clean up expired attempts" action otherwise fails on the admin's request) and a status that knows the
# growing pause (config/login_lockout.py).
if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class LoginLockoutAdmin(AccessAttemptAdmin):
    """Failed logins per username and address. Deleting a row unlocks that username at that address."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.handler = LockoutHandler()

    @admin.display(description="Status")
    def status(self, obj: AccessAttempt) -> str:
        left = settings.AXES_FAILURE_LIMIT - obj.failures_since_start
        if left > 0:
            return f"{left} attempt{'s' if left != 1 else ''} left"
        until = obj.attempt_time + cool_off_for_failures(obj.failures_since_start)
        if until > timezone.now():
            return f"Locked out until {until:%Y-%m-%d %H:%M} UTC"
        return "Pause over: the next failure locks out again, for longer"
