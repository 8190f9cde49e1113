"""A WSGI app for tests/test_gunicorn_worker.py: answers, after 20 ms of work, "<process id> <objects frozen>"."""

import gc
import os
import time


def application(environ, start_response):
    time.sleep(0.02)
    body = f"{os.getpid()} {gc.get_freeze_count()}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
