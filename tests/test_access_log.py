"""gunicorn's access log (GUNICORN_ACCESSLOG) never holds a query string or a Referer."""

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_access_log_keeps_paths_but_no_query_strings_tokens_or_referers(tmp_path):
    port, log = free_port(), tmp_path / "access.log"
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1", "GUNICORN_ACCESSLOG": str(log)}
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "tests.pid_wsgi_app:application"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path = "/api/v1/customers?access_token=tok-SECRET-123&email=ada%40example.com&q=Lovelace"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request(
                    "GET", path, headers={"Referer": "http://127.0.0.1/portal/customers/?q=grace%40example.com"}
                )
                conn.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=30)

    text = log.read_text()
    assert '"GET /api/v1/customers HTTP/1.1" 200' in text
    for secret in ("tok-SECRET-123", "access_token", "ada", "Lovelace", "grace", "?"):
        assert secret not in text


def test_runserver_as_the_demo_uses_it_logs_request_lines_without_their_query_strings(tmp_path):
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": f"sqlite:///{tmp_path}/db"}
    command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz?access_token=tok-SECRET-456&email=ada%40example.com")
                conn.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]

    assert '"GET /healthz HTTP/1.1" 200' in output, output
    assert "tok-SECRET-456" not in output
    assert "ada%40example" not in output
    assert "ada@example" not in output
