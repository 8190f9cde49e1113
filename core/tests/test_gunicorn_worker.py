"""gunicorn in production: BalancedThreadWorker spreads kept-alive connections evenly; gunicorn.conf.py's hooks."""

import collections
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.ports import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(request):
    """gunicorn with BalancedThreadWorker processes (2, or the test's `workers` mark) of one thread each."""
    port = free_port()
    marker = request.node.get_closest_marker("workers")
    workers = marker.args[0] if marker else 2
    command = [
        sys.executable, "-m", "gunicorn", "--worker-class", "core.gunicorn_worker.BalancedThreadWorker",
        "--workers", str(workers), "--threads", "1", "--bind", f"127.0.0.1:{port}", "--keep-alive", "30",
        "--no-control-socket", "tests.pid_wsgi_app:application",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
        time.sleep(1)  # both workers up and listening
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_production_config_freezes_what_each_worker_holds_at_start_away_from_the_collector(tmp_path):
    port, log = free_port(), tmp_path / "gunicorn.log"
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"}
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "tests.pid_wsgi_app:application"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        answer = None
        # Generous: with the suite on both cores, a preloading gunicorn can take a while to boot.
        deadline = time.monotonic() + 60
        while answer is None:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/")
                answer = conn.getresponse().read().decode()
            except OSError as exc:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError(f"gunicorn did not answer ({exc!r}); its log:\n{log.read_text()}") from exc
                time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=30)

    _pid, frozen = map(int, answer.split())
    assert frozen > 10_000, (answer, log.read_text())  # gunicorn's modules and the app; a worker without the hooks: 0


def serve_connections(port: int, connections: int, requests_each: int) -> list[list[str]]:
    """Open the connections at once; each sends its requests one after another on one kept-alive connection."""
    answers: list[list[str]] = [[] for _ in range(connections)]
    start = threading.Barrier(connections)

    def client(i: int) -> None:
        start.wait()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(requests_each):
            conn.request("GET", "/")
            answers[i].append(conn.getresponse().read().decode().split()[0])
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_kept_alive_connections_are_split_evenly_between_the_processes_and_each_is_served(server):
    answers = serve_connections(server, connections=8, requests_each=10)

    assert all(len(a) == 10 for a in answers)  # every connection was accepted and answered throughout
    assert all(len(set(a)) == 1 for a in answers)  # a kept-alive connection stays with its process
    per_process = collections.Counter(a[0] for a in answers)
    assert len(per_process) == 2
    assert max(per_process.values()) - min(per_process.values()) <= 2, per_process


@pytest.mark.workers(1)
def test_a_new_connection_is_served_while_kept_alive_clients_keep_every_thread_busy(server):
    stop = threading.Event()

    def hog() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
        while not stop.is_set():
            conn.request("GET", "/")
            conn.getresponse().read()
        conn.close()

    hogs = [threading.Thread(target=hog) for _ in range(3)]
    for thread in hogs:
        thread.start()
    try:
        time.sleep(0.3)  # the hogs hold the only thread: a request of theirs is always queued
        started = time.monotonic()
        newcomer = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
        newcomer.request("GET", "/")
        newcomer.getresponse().read()
        waited = time.monotonic() - started
    finally:
        stop.set()
        for thread in hogs:
            thread.join()

    # Three queued requests of 20 ms each, plus the accept pause: well under a second.
    assert waited < 0.5


def test_the_balanced_worker_checks_the_gunicorn_internals_it_relies_on(monkeypatch):
    from core import gunicorn_worker

    gunicorn_worker.check_gunicorn_internals()  # the pinned gunicorn passes

    monkeypatch.setattr(gunicorn_worker.gunicorn, "__version__", "28.0.0")
    with pytest.raises(RuntimeError, match="gunicorn is 28.0.0, not 27.0.1"):
        gunicorn_worker.check_gunicorn_internals()
    monkeypatch.undo()

    monkeypatch.delattr(gunicorn_worker.ThreadWorker, "enqueue_req")
    with pytest.raises(RuntimeError, match=r"ThreadWorker.enqueue_req\(conn\) is gone or changed"):
        gunicorn_worker.check_gunicorn_internals()


def test_gunicorn_does_not_start_a_balanced_worker_on_changed_internals(tmp_path):
    # A gunicorn.conf.py hook stands in for an upgrade: it removes what the worker relies on.
    conf = tmp_path / "changed.conf.py"
    conf.write_text(
        "def post_fork(server, worker):\n"
        "    from gunicorn.workers.gthread import ThreadWorker\n"
        "    del ThreadWorker.finish_request\n"
    )
    command = [
        sys.executable, "-m", "gunicorn", "-c", str(conf),
        "--worker-class", "core.gunicorn_worker.BalancedThreadWorker", "--workers", "1",
        "--bind", f"127.0.0.1:{free_port()}", "--no-control-socket", "tests.pid_wsgi_app:application",
    ]  # fmt: skip

    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert "ThreadWorker.finish_request(conn, fs) is gone or changed" in result.stderr
