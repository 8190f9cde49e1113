"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py config.wsgi`.

Defaults were chosen by measurement on a 2-core machine (bench/run.py; numbers in
docs/SCALING.md): gthread workers keep HTTP connections alive, two processes per
core keep both cores busy while one waits on PostgreSQL, and two threads each
(not four) let a slow request (a CSV export) share its process without the GIL
contention of more threads, which cost 10-25% more CPU per request. Every
setting can be overridden from the environment.
"""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.production")

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1)))
# gthread, spreading connections evenly over the processes (core/gunicorn_worker.py).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "core.gunicorn_worker.BalancedThreadWorker")
threads = int(os.environ.get("GUNICORN_THREADS", 2))
# Enough for a load balancer's pooled connections, well above the workers' threads.
backlog = int(os.environ.get("GUNICORN_BACKLOG", 2048))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 75))  # longer than typical LB idle timeouts (60 s)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
# Recycle workers now and then so slow leaks cannot grow without bound; jitter avoids all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 100_000))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", 10_000))
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None  # "-" for stdout; off by default (the LB logs requests)
# The path without its query string, and no Referer: query strings carry search terms, emails and
# sometimes a token a client put in the URL, and a log line outlives a customer's erasure. The
# request id ties a line to the application's own log. gunicorn's default format has "%(r)s" and "%(f)s".
access_log_format = os.environ.get(
    "GUNICORN_ACCESS_LOG_FORMAT", '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)s "%(a)s" %({x-request-id}o)s'
)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Load the application before forking: workers share its memory pages and start at once.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
# gunicorn's runtime control socket sits at one path per user ($HOME/.gunicorn/gunicorn.ctl): two
# servers on one host would fight over it, and production is managed by its supervisor, not by it.
control_socket_disable = os.environ.get("GUNICORN_CONTROL_SOCKET", "0") != "1"


def pre_fork(server, worker):
    # Everything the preloaded application allocated goes to the permanent generation: the
    # collector never walks it again. Full collections in a worker took up to 156 ms, one worker's
    # connections all waiting, and were the p99 of every benchmark scenario (docs/SCALING.md). The
    # workers also keep sharing those pages with the master instead of copying them on collection.
    gc.freeze()


def post_worker_init(worker):
    # The same for what the worker allocated while starting (all of the application when it is not preloaded).
    gc.freeze()
