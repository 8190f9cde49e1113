import signal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from events.worker import Worker, gateway_enabled


class Command(BaseCommand):
    help = (
        "Deliver customer events to the processing gateway and to merchants' webhook endpoints. "
        "Keeps running and polls by default; --once drains what is due and exits. "
        "SIGTERM or Ctrl-C finishes the deliveries in flight, then exits."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Deliver what is due now, then exit.")
        parser.add_argument(
            "--poll-interval",
            type=float,
            default=1.0,
            help="Seconds to wait when nothing is due (default: 1).",
        )
        parser.add_argument(
            "--concurrency",
            type=int,
            default=None,
            help="Deliveries in flight at once to each destination (default: EVENT_DELIVERY_CONCURRENCY, 4; "
            "at most EVENT_DELIVERY_MAX_IN_FLIGHT, 8).",
        )

    def handle(self, *args, once: bool, poll_interval: float, concurrency: int | None, **options):
        if poll_interval <= 0:
            raise CommandError("--poll-interval must be a positive number of seconds.")
        concurrency = settings.EVENT_DELIVERY_CONCURRENCY if concurrency is None else concurrency
        if concurrency < 1:
            raise CommandError("--concurrency must be at least 1.")
        try:
            worker = Worker(poll_interval=poll_interval, concurrency=concurrency)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None

        def stop(signum, frame):
            worker.request_stop()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            if not gateway_enabled():
                self.stderr.write("GATEWAY_URL is not set: gateway deliveries stay pending until it is.")
            elif not once:
                self.stderr.write(f"Delivering to the gateway at {settings.GATEWAY_URL} and to webhooks.")
            if once:
                worker.drain()
            else:
                worker.run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        counts = worker.counts
        self.stdout.write(
            f"{'Stopped' if worker.stopping else 'Done'}: {counts['succeeded']} delivered, "
            f"{counts['retrying']} to retry later, {counts['failed']} failed, {counts['skipped']} skipped (erased)."
        )
