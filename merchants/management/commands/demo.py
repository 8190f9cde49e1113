import json
import shlex
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from core.scoping import merchant_scope
from merchants.models import Merchant, MerchantMembership
from merchants.selectors import merchant_clients
from merchants.services import membership_add, merchant_create, oauth_client_create, oauth_client_revoke

DEMO_MERCHANT = "Demo Merchant"
DEMO_ADMIN_EMAIL = "admin@demo.example"
DEMO_ADMIN_PASSWORD = "demo-password-2026"  # noqa: S105 - a published demo login, printed at start
DEMO_CLIENT = "Demo client"


class Command(BaseCommand):
    help = (
        "Migrate, make sure the demo merchant exists, print its credentials, then run the development server "
        "and, beside it, the worker (`manage.py worker`: imports, exports and webhook delivery)."
    )

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--no-server", action="store_true", help="Set up and print, but start neither the server nor the worker"
        )
        parser.add_argument("--no-worker", action="store_true", help="Serve without starting the worker beside it")

    def handle(self, *args, addrport, no_server, no_worker, **options):
        call_command("migrate", interactive=False, verbosity=0)
        # DEBUG is off by default, so WhiteNoise serves the collected files.
        call_command("collectstatic", interactive=False, verbosity=0)
        merchant = Merchant.objects.filter(name=DEMO_MERCHANT).first() or merchant_create(name=DEMO_MERCHANT)
        with merchant_scope(merchant):
            issued = self._demo_access(merchant)
        self._print(merchant, issued, addrport)
        if no_server:
            return
        worker = None if no_worker else self._start_worker()
        try:
            call_command("runserver", addrport, use_reloader=False)
        finally:
            if worker is not None:
                worker.terminate()  # SIGTERM: it stops at its next checkpoint
                worker.wait(timeout=60)

    def _start_worker(self) -> subprocess.Popen:
        """`manage.py worker` as a child process, with this process's settings and database."""
        self.stdout.write("Starting the worker (imports, exports, webhooks): manage.py worker")
        manage = Path(settings.BASE_DIR) / "manage.py"
        return subprocess.Popen([sys.executable, str(manage), "worker"])  # noqa: S603 - our own command

    def _demo_access(self, merchant):
        demo_admin = membership_add(
            merchant=merchant,
            email=DEMO_ADMIN_EMAIL,
            role=MerchantMembership.Role.ADMIN,
            password=DEMO_ADMIN_PASSWORD,
        ).user
        if not demo_admin.get_full_name():
            # A person's name, as the customer history shows it: "Changed by Ada Admin in the portal".
            demo_admin.first_name, demo_admin.last_name = "Ada", "Admin"
            demo_admin.save(update_fields=["first_name", "last_name"])
        # Secrets are stored hashed, so each start issues a fresh demo client to print;
        # the ones printed at earlier starts are revoked so they do not pile up.
        for previous in merchant_clients(merchant=merchant).filter(name=DEMO_CLIENT):
            oauth_client_revoke(merchant=merchant, client=previous)
        return oauth_client_create(merchant=merchant, name=DEMO_CLIENT)

    def _print(self, merchant, issued, addrport) -> None:
        base = f"http://{addrport}"
        body = json.dumps(
            {
                "firstname": "Ada",
                "lastname": "Lovelace",
                "email": "ada@example.com",
                "address_country": "GBR",
                "options": {"custom_fields": [{"name": "loyalty_tier", "type": "integer", "value": 3}]},
            }
        )
        client_id, secret = issued.client.client_id, issued.client_secret
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"Demo merchant: {merchant.name} ({merchant.pk})",
                    f"  API client id:     {client_id}",
                    f"  API client secret: {secret}",
                    f"  Portal:            {base}/portal/  login {DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD}",
                    f"  API docs:          {base}/api/docs/",
                    "",
                    "Get a token and create a customer:",
                    "",
                    f"TOKEN=$(curl -s -u '{client_id}:{secret}' -d grant_type=client_credentials {base}/o/token/ \\",
                    "  | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
                    'curl -i -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\',
                    f"  -d {shlex.quote(body)} {base}/api/v1/customers",
                    "",
                ]
            )
        )
