"""Django admin for operators: merchants with their API clients and staff, and memberships."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse

from merchants.models import Merchant, MerchantMembership, OAuthClient
from merchants.services import oauth_client_create, oauth_client_revoke


class OAuthClientInline(admin.TabularInline):
    """Existing clients; new ones come from the "Issue an API client" action, which shows the secret once."""

    model = OAuthClient
    fk_name = "merchant"
    fields = ["name", "client_id", "created"]
    readonly_fields = ["client_id", "created"]
    extra = 0
    verbose_name_plural = "API clients (delete = revoke: its tokens stop working at once)"

    def has_add_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    model = MerchantMembership
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["user"]
    extra = 1


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "=id"]
    readonly_fields = ["id", "created_at", "updated_at"]
    inlines = [OAuthClientInline, MembershipInline]
    actions = ["issue_api_client"]

    def save_formset(self, request, form, formset, change):
        if formset.model is not OAuthClient:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for client in formset.deleted_objects:
            oauth_client_revoke(merchant=form.instance, client=client)
        for client in formset.changed_objects:
            client[0].save(update_fields=["name"])

    @admin.action(description="Issue an API client (shows its secret once)")
    def issue_api_client(self, request, queryset):
        issued = [oauth_client_create(merchant=merchant, name=f"{merchant.name} API client") for merchant in queryset]
        messages.success(request, f"Issued {len(issued)} API client(s). Copy the secrets now: they are not kept.")
        response = TemplateResponse(
            request,
            "admin/merchants/issued_clients.html",
            {**self.admin_site.each_context(request), "title": "API clients issued", "issued": issued},
        )
        response["Cache-Control"] = "no-store"
        return response


@admin.register(MerchantMembership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "merchant", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "merchant"]
    search_fields = ["user__username", "user__email", "merchant__name"]
    raw_id_fields = ["user", "merchant"]
