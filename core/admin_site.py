"""Django admin with the vault's admin site: Django's, with tenant scoping switched off.

Operators see every merchant's rows, so admin is one of the places that opt out
of django-scopes explicitly (with the worker and the management commands).
INSTALLED_APPS names `VaultAdminConfig` instead of django.contrib.admin.
"""

import functools

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.template.response import SimpleTemplateResponse
from django_scopes import scopes_disabled

from core.ids import parse_uuid


class VaultAdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        @functools.wraps(view)
        def unscoped(request, *args, **kwargs):
            with scopes_disabled():
                response = view(request, *args, **kwargs)
                # Admin pages are TemplateResponses, rendered after the view returns: render them
                # while tenant scoping is still off, since the templates read the rows too.
                if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                    response.render()
                return response

        return super().admin_view(unscoped, cacheable)


class VaultAdminConfig(AdminConfig):
    default_site = "core.admin_site.VaultAdminSite"


class PastedIdSearchMixin:
    """Admin search where a pasted id (a UUID) finds by `pasted_id_field` exactly; other terms search as usual."""

    pasted_id_field = "pk"

    def get_search_results(self, request, queryset, search_term):
        pasted = parse_uuid(search_term.strip())
        if pasted is None:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(**{self.pasted_id_field: pasted}), False
