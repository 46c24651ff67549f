"""`countermand serve --demo`: the web server and a worker; a demo cancellation is confirmed by the Sandbox
ERP within 2 seconds with no manual step."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest

from tests.waiting import wait_until

REQUEST_CANCELLATION = """
import time
from django.contrib.auth import get_user_model
from countermand.cancellations.services import order_cancel_request
from countermand.orders.actors import actor_for_user
from countermand.orders.models import Order
buyer = get_user_model().objects.get(username="buyer@example.com")
request = order_cancel_request(
    order=Order.objects.get(web_order_number="WEB-1001"), actor=actor_for_user(buyer),
    channel="storefront", reason_code="Ordered by mistake",
)
print("REQUESTED", request.pk, time.time())
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_demo_confirms_a_cancellation_within_two_seconds(tmp_path):
    port = free_port()
    db = tmp_path / "serve.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "PYTHONUNBUFFERED": "1"}
    for name in [k for k in env if k.startswith("COUNTERMAND_WORKER_")]:
        env.pop(name)  # the defaults, as an operator gets them
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 (closed below)
    serve = subprocess.Popen(
        [sys.executable, "-m", "countermand", "serve", "--demo", "--port", str(port), "--workers", "1"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(ready, timeout=90, interval=0.2, message="serve up (/readyz 200)")
        from countermand.demo import SHOWCASE_ORDERS

        assert SHOWCASE_ORDERS[0][:4] == ("WEB-1001", "ERP-5001", "C1000", "Submitted")  # cancellable

        shell = subprocess.run(
            [sys.executable, "-m", "countermand", "manage", "shell", "-c", REQUEST_CANCELLATION],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shell.returncode == 0, shell.stderr[-3000:]
        _, request_id, requested_at = shell.stdout.split()[-3:]
        with sqlite3.connect(db, timeout=10) as conn:

            def request_row() -> tuple[str, str]:
                return conn.execute(
                    "SELECT state, erp_reference FROM cancellations_cancellationrequest WHERE id = ?", (request_id,)
                ).fetchone()

            wait_until(
                lambda: request_row()[0] == "Confirmed",
                timeout=10,
                interval=0.02,
                message=lambda: f"the request confirmed; still {request_row()[0]}",
            )
        took = time.time() - float(requested_at)
        message = request_row()[1]
        assert took <= 2.0, f"confirmed after {took:.2f} s"
        print(f"confirmed {took:.2f} s after the request committed")
        assert message.startswith("SBX-")
        (status,) = conn.execute("SELECT status FROM orders_order WHERE web_order_number = 'WEB-1001'").fetchone()
        assert status == "Cancelled"

        metrics = httpx.get(f"{base}/metrics", timeout=5).text  # the worker's histograms, through the web server
        assert 'countermand_job_duration_seconds_count{definition="OrderCancel",outcome="success"} 1.0' in metrics
        assert 'countermand_cancellations{state="Confirmed"} 1.0' in metrics
        assert httpx.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            pytest.fail("serve did not stop on SIGTERM")
        finally:
            log.close()
    assert serve.returncode == 0 or serve.returncode == -signal.SIGTERM
