"""Running work on several threads (each with its own database connection) released at the same moment."""

import threading

from django.db import connections


def in_threads(count: int, work) -> list:
    """Run work(i) in `count` threads released together; returns what each returned, in order.

    Any exception raised in a thread fails the calling test, as does a thread
    still running after five minutes. Each thread closes its own connections.
    """
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as error:  # reported in the test's thread below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert not errors, errors
    return results
