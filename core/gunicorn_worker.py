"""The gunicorn worker class of production (gunicorn.conf.py), and the one module that uses gunicorn's internals.

gunicorn's gthread workers all wait on the one listening socket and whichever
wakes first accepts a new connection; a kept-alive connection then stays with
that process for good. Measured with 32 connections on 4 workers, the split
came out like 22/6/1/3: the requests on the busiest process waited several
times longer than the rest, and the p99 latency of a create was 2-4 times its
p50 (docs/SCALING.md). This worker leaves new connections to a process that
has a thread free, so they spread evenly (8/8/8/8 in the same run).

Kept because it still earns its keep, measured side by side with stock gthread in
one benchmark run (bench/run.py --worker-class gthread; docs/benchmark.md): p99 of a
create 133-134 ms against 164-236, of a retrieve 117-140 against 203-214. It relies
on gthread's internals, not its documented API: the `_accepting` flag, and that the
main loop calls `set_accept_enabled` on every turn and `enqueue_req` /
`finish_request` per request. requirements.txt pins gunicorn to the version this was
written for, and `check_gunicorn_internals` stops the worker from booting (gunicorn
then exits, saying why) if an upgrade removed or reshaped any of them. Without this
worker, set GUNICORN_WORKER_CLASS=gthread and give the load balancer a
least-connections policy, which spreads kept-alive connections the same way.
"""

import inspect
import time

import gunicorn
from gunicorn.workers.gthread import ThreadWorker

# The gunicorn whose internals this module was checked against (requirements.txt pins it).
GUNICORN_VERSION = "27.0.1"
# gthread's methods this worker overrides or calls, with their parameters.
GTHREAD_METHODS = {
    "enqueue_req": ["self", "conn"],
    "finish_request": ["self", "conn", "fs"],
    "wait_for_and_dispatch_events": ["self", "timeout"],
    "set_accept_enabled": ["self", "enabled"],
}


def check_gunicorn_internals(worker: ThreadWorker | None = None) -> None:
    """Raise RuntimeError, naming what changed, if gthread is not the one BalancedThreadWorker was written for."""
    problems = []
    if gunicorn.__version__ != GUNICORN_VERSION:
        problems.append(f"gunicorn is {gunicorn.__version__}, not {GUNICORN_VERSION}")
    for name, parameters in GTHREAD_METHODS.items():
        method = getattr(ThreadWorker, name, None)
        if method is None or list(inspect.signature(method).parameters) != parameters:
            problems.append(f"ThreadWorker.{name}({', '.join(parameters[1:])}) is gone or changed")
    if worker is not None and not isinstance(getattr(worker, "_accepting", None), bool):
        problems.append("ThreadWorker no longer keeps its accept state in `_accepting`")
    if problems:
        raise RuntimeError(
            "core/gunicorn_worker.py BalancedThreadWorker relies on gunicorn internals that changed: "
            + "; ".join(problems)
            + ". Re-measure it against stock gthread (bench/run.py --worker-class gthread) and update it, "
            "or run with GUNICORN_WORKER_CLASS=gthread."
        )


# How long a worker whose threads are all busy waits before it accepts again
# anyway. Without it, clients already connected could keep every worker busy
# and a new connection would wait in the backlog indefinitely.
ACCEPT_PAUSE_SECONDS = 0.02


class BalancedThreadWorker(ThreadWorker):
    """gthread worker that accepts new connections while it has a free thread, and only now and then otherwise."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.requests_in_hand = 0  # requests handed to the thread pool and not yet finished
        self.accept_resumes_at = 0.0

    def init_process(self):
        # In the worker process, before it serves: gunicorn reports "Worker failed to boot" and stops.
        check_gunicorn_internals(self)
        super().init_process()

    def enqueue_req(self, conn):
        self.requests_in_hand += 1
        if self.requests_in_hand >= self.cfg.threads and self._accepting:
            self.accept_resumes_at = time.monotonic() + ACCEPT_PAUSE_SECONDS
            super().set_accept_enabled(False)
        super().enqueue_req(conn)

    def finish_request(self, conn, fs):
        self.requests_in_hand -= 1
        super().finish_request(conn, fs)

    def wait_for_and_dispatch_events(self, timeout):
        # Wake up when a pause ends, not only when a request finishes (a long one would hold the pause).
        remaining = self.accept_resumes_at - time.monotonic()
        if not self._accepting and remaining > 0:
            timeout = min(timeout, remaining)
        super().wait_for_and_dispatch_events(timeout)

    def set_accept_enabled(self, enabled):
        # The main loop calls this on every turn while accepting is off, so a pause ends on its own.
        if enabled and self.requests_in_hand >= self.cfg.threads and time.monotonic() < self.accept_resumes_at:
            enabled = False
        super().set_accept_enabled(enabled)
