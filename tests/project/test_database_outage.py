"""A database outage: a private PostgreSQL, started by the test, stopped under a running web server — the API
answers 503 DATABASE_UNAVAILABLE with Retry-After, the storefront and console a friendly 503 page, the log one
line per burst; once the database is back the same server answers again, without a restart."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from countermand.devtools.postgres import PrivatePostgres
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    server.start()
    yield server
    server.close()


def test_a_stopped_postgresql_answers_503_with_retry_after_and_the_server_recovers_without_a_restart(
    private_pg: PrivatePostgres, tmp_path: Path
):
    env = {**os.environ, "DATABASE_URL": private_pg.database_create("outage"), "COUNTERMAND_LOG_LEVEL": "INFO"}
    for command in (["manage", "migrate", "-v0"], ["demo"]):
        subprocess.run([sys.executable, "-m", "countermand", *command], cwd=ROOT, env=env, check=True, timeout=300)
    port = free_port()
    log_path = tmp_path / "web.log"
    with log_path.open("w") as log:
        web = subprocess.Popen(
            [sys.executable, "-m", "countermand", "web", "--port", str(port), "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=10) as http:

            def answering() -> bool:
                assert web.poll() is None, log_path.read_text()[-3000:]
                try:
                    return http.get("/healthz").status_code == 200
                except httpx.TransportError:
                    return False

            wait_until(answering, timeout=60, interval=0.2, message=lambda: log_path.read_text()[-3000:])
            token = http.post("/api/v1/auth/token", json={"username": "buyer@example.com", "password": "demo-buyer"})
            assert token.status_code == 201, token.text
            auth = {"Authorization": f"Bearer {token.json()['token']}"}
            assert http.get("/api/v1/orders", headers=auth).status_code == 200

            private_pg.stop()
            for _ in range(20):
                answer = http.get("/api/v1/orders", headers=auth)
                assert answer.status_code == 503, answer.text
                assert answer.headers["Retry-After"] == "5"
                assert answer.json()["code"] == "DATABASE_UNAVAILABLE"
                assert answer.json()["message"]
            cancel = http.post("/api/v1/orders/WEB-1001/cancel", headers=auth, json={"reason": "Other"})
            assert (cancel.status_code, cancel.json()["code"]) == (503, "DATABASE_UNAVAILABLE")
            for page in ("/orders/", "/admin/"):  # a session cookie: the page must read the session table
                answer = http.get(page, headers={"Cookie": "sessionid=" + "x" * 32})
                assert answer.status_code == 503, (page, answer.text[:500])
                assert answer.headers["Retry-After"] == "5"
                assert "Back in a moment" in answer.text
            readiness = http.get("/readyz")
            assert readiness.status_code == 503

            private_pg.start()
            wait_until(
                lambda: http.get("/api/v1/orders", headers=auth).status_code == 200,
                timeout=30,
                message=lambda: log_path.read_text()[-3000:],
            )
            assert http.get("/readyz").status_code == 200
    finally:
        web.terminate()
        try:
            web.wait(timeout=30)
        except subprocess.TimeoutExpired:
            web.kill()
    logged = log_path.read_text()
    assert "Traceback" not in logged, logged[-3000:]
    assert "Internal Server Error" not in logged
    assert logged.count("database unavailable (") == 1, logged[-3000:]  # one line for the whole burst
