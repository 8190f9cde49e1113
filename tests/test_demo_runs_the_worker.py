"""`manage.py demo` runs the worker beside the server: a newcomer's webhook is delivered out of the box."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.http_receiver import Receiver
from tests.ports import free_port

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parent.parent


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_a_webhook_added_with_the_demos_credentials_is_delivered_by_the_worker_the_demo_started(tmp_path):
    receiver = Receiver().start()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1",  # the receiver listens on 127.0.0.1
        "JOBS_POLL_SECONDS": "0.2",
        "PYTHONFAULTHANDLER": "1",  # a process that hangs prints every thread's stack on SIGABRT
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)  # manage.py's own default, as a newcomer runs it
    log = (tmp_path / "demo.log").open("w+b")
    demo = subprocess.Popen(
        [sys.executable, "manage.py", "demo", f"127.0.0.1:{port}"],
        cwd=PROJECT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # As from a terminal: Ctrl-C interrupts. (A pytest-xdist worker ignores SIGINT, and a child
        # inherits that: runserver would never see the Ctrl-C below.)
        preexec_fn=_interruptible,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        printed = ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert demo.poll() is None, (tmp_path / "demo.log").read_text()
            printed = (tmp_path / "demo.log").read_text()
            try:
                if "API client secret" in printed and requests.get(f"{base}/healthz", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        client_id = re.search(r"API client id:\s+(\S+)", printed).group(1)
        secret = re.search(r"API client secret:\s+(\S+)", printed).group(1)
        token = requests.post(
            f"{base}/o/token/", data={"grant_type": "client_credentials"}, auth=(client_id, secret), timeout=10
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        added = requests.post(
            f"{base}/api/v1/webhook-endpoints", json={"url": receiver.url}, headers=headers, timeout=10
        )
        assert added.status_code == 201, added.text
        created = requests.post(
            f"{base}/api/v1/customers", json={"firstname": "Ada"}, headers=headers, timeout=10
        ).json()

        deadline = time.monotonic() + 60
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [body["type"] for body in receiver.bodies()] == ["customer.created"], (tmp_path / "demo.log").read_text()
        assert receiver.bodies()[0]["data"]["customer_id"] == created["customer_id"]
    finally:
        # Ctrl-C in a terminal reaches the whole group: the server and the worker both stop.
        os.killpg(demo.pid, signal.SIGINT)
        try:
            # The worker finishes what it holds first; a loaded CI machine gets time for that.
            demo.wait(timeout=120)
        except subprocess.TimeoutExpired:
            still_running = subprocess.run(
                ["ps", "-o", "pid,stat,etime,args", "-g", str(demo.pid)], capture_output=True, text=True
            ).stdout
            os.killpg(demo.pid, signal.SIGABRT)
            time.sleep(2)
            os.killpg(demo.pid, signal.SIGKILL)
            pytest.fail(
                f"The demo did not stop within 120 s of Ctrl-C.\n{still_running}\n{(tmp_path / 'demo.log').read_text()}"
            )
        receiver.stop()
    assert "Worker stopped." in (tmp_path / "demo.log").read_text()
