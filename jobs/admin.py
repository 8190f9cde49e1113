"""Django admin of the worker processes for operators: who is running, read only."""

from django.contrib import admin

from jobs.models import WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    """The job threads of running `manage.py worker` processes; a row not seen for a lease is a dead worker."""

    list_display = ("worker_id", "hostname", "pid", "started_at", "seen_at")
    ordering = ("-seen_at",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
