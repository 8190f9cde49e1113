"""The gunicorn worker class of production (gunicorn.conf.py).

gunicorn's gthread workers all wait on the one listening socket and whichever
wakes first accepts a new connection; a kept-alive connection then stays with
that process for good. Measured with 32 connections on 4 workers, the split
came out like 22/6/1/3: the requests on the busiest process waited several
times longer than the rest, and the p99 latency of a create was 2-4 times its
p50 (docs/SCALING.md). This worker leaves new connections to a process that
has a thread free, so they spread evenly (8/8/8/8 in the same run).
"""

import time

from gunicorn.workers.gthread import ThreadWorker

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
