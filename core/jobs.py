"""What a long job and the worker that runs it share: the worker's request to stop.

`manage.py worker` (jobs/) sets `worker_stopping` on SIGTERM or SIGINT. A long job calls
`raise_if_stopping()` between two of its checkpoints: it stops there, with its work up to the
checkpoint committed, and the worker puts it back in the queue instead of marking it failed,
so the next worker resumes it.
"""

import threading

worker_stopping = threading.Event()


class WorkerStopping(Exception):  # noqa: N818 - a request, not an error
    """The worker running this job is shutting down; the job is queued again and resumes later."""


def raise_if_stopping() -> None:
    if worker_stopping.is_set():
        raise WorkerStopping
