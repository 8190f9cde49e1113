"""Django's PostgreSQL backend, with a per-request connection health check that needs no round trip.

With CONN_HEALTH_CHECKS, Django runs `SELECT 1` before the first query of every
request on a persistent connection: a round trip that cost 3-8% of a create's
or a retrieve's throughput (docs/SCALING.md). An idle connection has nothing
to read, and when the server ends one (a restart, a failover, an idle timeout)
it sends its reason and closes the socket, which then turns readable. So the
socket is polled first, and Django's own check runs only when something
arrived. A peer that vanished without a word (a cut cable) is caught by
neither check until TCP gives up; the query then fails as it would have.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        quiet = (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.connection.closed
            and not _has_input(self.connection.fileno())
        )
        if quiet:
            self.health_check_done = True
            return
        super().close_if_health_check_failed()


def _has_input(fileno: int) -> bool:
    readable, _, _ = select.select([fileno], [], [], 0)
    return bool(readable)
