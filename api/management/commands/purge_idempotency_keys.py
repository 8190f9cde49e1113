from django.core.management.base import BaseCommand

from api.idempotency import idempotency_purge_expired


class Command(BaseCommand):
    help = (
        "Delete stored Idempotency-Key responses past their expiry (IDEMPOTENCY_KEY_TTL_HOURS, 24 by default). "
        "Expired keys are already ignored; this only frees the space. Run it daily, e.g. from cron."
    )

    def handle(self, *args, **options):
        deleted = idempotency_purge_expired()
        self.stdout.write(f"Deleted {deleted} expired idempotency record(s).")
