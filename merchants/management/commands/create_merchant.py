import json
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.scoping import merchant_scope
from merchants.models import MerchantMembership
from merchants.services import membership_add, merchant_create, oauth_client_create


class Command(BaseCommand):
    help = (
        "Create a merchant and an OAuth2 client-credentials client for it. Prints one JSON object: "
        '{"merchant_id", "client_id", "client_secret"}; the secret is shown only this once.'
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="The merchant's name")
        parser.add_argument("--no-client", action="store_true", help="Do not create an OAuth2 client")
        parser.add_argument("--admin-email", help="Create (or link) a portal user as an admin of the merchant")
        parser.add_argument("--admin-password", help="Password for --admin-email (default: $MERCHANT_ADMIN_PASSWORD)")

    def handle(self, *args, name, no_client, admin_email, admin_password, **options):
        password = admin_password or os.environ.get("MERCHANT_ADMIN_PASSWORD")
        if admin_email and not password:
            raise CommandError("--admin-email needs --admin-password or MERCHANT_ADMIN_PASSWORD.")
        try:
            # All or nothing: a refused admin email leaves no half-made merchant behind.
            with transaction.atomic():
                result = self._create(name, no_client, admin_email, password)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(json.dumps(result))

    def _create(self, name, no_client, admin_email, password) -> dict:
        merchant = merchant_create(name=name)
        with merchant_scope(merchant):
            return self._fill(merchant, no_client, admin_email, password)

    def _fill(self, merchant, no_client, admin_email, password) -> dict:
        result = {"merchant_id": str(merchant.pk)}
        if not no_client:
            issued = oauth_client_create(merchant=merchant, name=f"{merchant.name} API client")
            result.update(client_id=issued.client.client_id, client_secret=issued.client_secret)
        if admin_email:
            membership_add(merchant=merchant, email=admin_email, role=MerchantMembership.Role.ADMIN, password=password)
            result["admin_email"] = admin_email
        return result
