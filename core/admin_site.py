"""Django admin with the vault's admin site: Django's, with tenant scoping switched off.

Operators see every merchant's rows, so admin is one of the places that opt out
of django-scopes explicitly (with the worker and the management commands).
INSTALLED_APPS names `VaultAdminConfig` instead of django.contrib.admin.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django_scopes import scopes_disabled


class VaultAdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        return super().admin_view(scopes_disabled()(view), cacheable)


class VaultAdminConfig(AdminConfig):
    default_site = "core.admin_site.VaultAdminSite"
