import signal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from events.worker import gateway_enabled
from jobs.worker import WorkerProcess, requeue_abandoned, run_queued_jobs


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Run every piece of background work: the queued jobs (CSV imports and exports) on --concurrency threads, "
        "and the delivery of customer events to the gateway and to webhooks. SIGTERM or Ctrl-C stops it: a "
        "running import stops at its next checkpoint and is queued again; the next worker resumes it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--concurrency",
            type=positive_int,
            default=None,
            help="Jobs run at once (threads; default 1) and event deliveries in flight per destination (default "
            f"{settings.EVENT_DELIVERY_CONCURRENCY}, the EVENT_DELIVERY_CONCURRENCY setting; "
            "EVENT_DELIVERY_MAX_IN_FLIGHT caps it).",
        )
        parser.add_argument(
            "--poll-interval",
            type=float,
            default=None,
            help=f"Seconds to wait when nothing is queued or due (default: {settings.JOBS_POLL_SECONDS}, "
            "the JOBS_POLL_SECONDS setting).",
        )
        parser.add_argument(
            "--once", action="store_true", help="Run the queued jobs and deliver what is due now, then exit."
        )
        parser.add_argument(
            "--no-events", action="store_true", help="Run jobs only; leave event delivery to another worker."
        )

    def handle(self, *args, concurrency, poll_interval, once, no_events, **options):
        if poll_interval is not None and poll_interval <= 0:
            raise CommandError("--poll-interval must be a positive number of seconds.")
        try:
            process = WorkerProcess(concurrency=concurrency, poll_interval=poll_interval, events=not no_events)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        if not no_events and not gateway_enabled():
            self.stderr.write("GATEWAY_URL is not set: gateway deliveries stay pending until it is.")
        if once:
            requeue_abandoned()
            jobs = run_queued_jobs()
            delivered = process.event_worker.drain() if process.event_worker else 0
            self.stdout.write(f"Done: {jobs} jobs run, {delivered} deliveries handled.")
            return

        # The handler only records the signal: it runs between two bytecodes of the main thread, which may
        # be inside Event.set() already (a second signal: Ctrl-C, then the demo's SIGTERM), and taking that
        # Event's lock again there would deadlock. The loop below acts on it within half a second.
        signals_received: list[int] = []

        def stop(signum, frame):
            signals_received.append(signum)

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            process.start()
            self.stderr.write(
                f"Worker running: {len(process.job_workers)} job thread{'s' if len(process.job_workers) > 1 else ''}"
                f"{' and event delivery' if process.event_worker else ''}. SIGTERM or Ctrl-C stops it."
            )
            while not process.join():
                if signals_received:
                    process.request_stop()
        finally:
            process.request_stop()
            process.join(timeout=60)
            process.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("Worker stopped.")
