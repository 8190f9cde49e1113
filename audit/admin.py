"""Django admin of the audit trail, for operators: read only."""

from django.contrib import admin

from audit.models import AuditEntry
from audit.selectors import describe_entries
from core.admin_site import PastedIdSearchMixin
from core.paginators import LargeTablePaginator


@admin.register(AuditEntry)
class AuditEntryAdmin(PastedIdSearchMixin, admin.ModelAdmin):
    """The audit trail, read only: who changed which customer, when, through which door, which fields.

    It holds ids and field names, never values, so it may outlive the customer's erasure.
    """

    list_display = ["created_at", "action", "customer_id", "who", "changed_fields", "merchant"]
    list_filter = ["action", "door", "merchant"]
    list_select_related = ["merchant"]
    search_fields = ["actor"]
    pasted_id_field = "customer_id"
    search_help_text = "Paste a customer id, or part of an API client id or user name."
    ordering = ["-id"]
    show_full_result_count = False
    paginator = LargeTablePaginator

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # The page's entries in words, the clients' and people's names read in two queries for the whole page;
        # the list then renders these same (cached) objects.
        entries = list(changelist.result_list)
        for entry, line in zip(entries, describe_entries(entries=entries), strict=True):
            entry.history_sentence = line.sentence
        return changelist

    @admin.display(description="Who")
    def who(self, entry: AuditEntry) -> str:
        sentence = getattr(entry, "history_sentence", None)
        return sentence if sentence is not None else describe_entries(entries=[entry])[0].sentence

    def lookup_allowed(self, lookup, value, request=None):
        # The customer page links to ?customer_id=...: one customer's trail.
        return lookup == "customer_id" or super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
