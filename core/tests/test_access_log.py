"""gunicorn's access log (GUNICORN_ACCESSLOG) and runserver's request log never hold a query string or a Referer."""

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ports import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def first_answer(process: subprocess.Popen, port: int, path: str, headers: dict | None = None) -> None:
    """GET `path` from the server on `port` as soon as it answers (it may still be starting)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path, headers=headers or {})
            conn.getresponse().read()
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise
            time.sleep(0.2)


def wait_for_line(log: Path, line: str) -> str:
    """The log's text once it holds `line`: servers write a request's line after its answer has gone."""
    deadline = time.monotonic() + 10
    while line not in (text := log.read_text() if log.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.1)
    return text


def test_the_access_log_keeps_paths_but_no_query_strings_tokens_or_referers(tmp_path):
    port, log = free_port(), tmp_path / "access.log"
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1", "GUNICORN_ACCESSLOG": str(log)}
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "tests.pid_wsgi_app:application"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path = "/api/v1/customers?access_token=tok-SECRET-123&email=ada%40example.com&q=Lovelace"
    try:
        first_answer(process, port, path, {"Referer": "http://127.0.0.1/portal/customers/?q=grace%40example.com"})
        text = wait_for_line(log, '"GET /api/v1/customers HTTP/1.1" 200')
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert '"GET /api/v1/customers HTTP/1.1" 200' in text
    for secret in ("tok-SECRET-123", "access_token", "ada", "Lovelace", "grace", "?"):
        assert secret not in text


def test_runserver_as_the_demo_uses_it_logs_request_lines_without_their_query_strings(tmp_path):
    port, log = free_port(), tmp_path / "runserver.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.django.test", "DATABASE_URL": f"sqlite:///{tmp_path}/db"}
    command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"]
    with log.open("w") as output_file:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output_file, stderr=subprocess.STDOUT)
    try:
        first_answer(process, port, "/healthz?access_token=tok-SECRET-456&email=ada%40example.com")
        output = wait_for_line(log, '"GET /healthz HTTP/1.1" 200')
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert '"GET /healthz HTTP/1.1" 200' in output, output
    assert "tok-SECRET-456" not in output
    assert "ada%40example" not in output
    assert "ada@example" not in output
