"""A database outage under a running web server: a private PostgreSQL, started by the test, stopped — the API
answers 503 DATABASE_UNAVAILABLE with Retry-After, the storefront and console a friendly 503 page, the log one
line per burst; once the database is back the same server answers again, without a restart. The same for a
SQLite file another writer holds locked past the server's busy timeout."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from countermand.devtools.postgres import PrivatePostgres
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DemoWeb:
    """A running `countermand web` on the demo data and a client signed in as the buyer buyer@example.com."""

    http: httpx.Client
    auth: dict[str, str]
    log_path: Path


@contextmanager
def demo_web(database_url: str, tmp_path: Path) -> Iterator[DemoWeb]:
    """Migrate `database_url`, load the demo and run `countermand web` on it for the block; the server is
    stopped (and waited for) when the block ends, so its log is complete."""
    env = {**os.environ, "DATABASE_URL": database_url, "COUNTERMAND_LOG_LEVEL": "INFO"}
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
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:

            def answering() -> bool:
                assert web.poll() is None, log_path.read_text()[-3000:]
                try:
                    return http.get("/healthz").status_code == 200
                except httpx.TransportError:
                    return False

            wait_until(answering, timeout=60, interval=0.2, message=lambda: log_path.read_text()[-3000:])
            token = http.post("/api/v1/auth/token", json={"username": "buyer@example.com", "password": "demo-buyer"})
            assert token.status_code == 201, token.text
            yield DemoWeb(http, {"Authorization": f"Bearer {token.json()['token']}"}, log_path)
    finally:
        web.terminate()
        try:
            web.wait(timeout=30)
        except subprocess.TimeoutExpired:
            web.kill()


def assert_one_log_line_per_burst(log_path: Path) -> str:
    logged = log_path.read_text()
    assert "Traceback" not in logged, logged[-3000:]
    assert "Internal Server Error" not in logged
    assert logged.count("database unavailable (") == 1, logged[-3000:]  # one line for the whole burst
    return logged


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    server.start()
    yield server
    server.close()


def test_a_stopped_postgresql_answers_503_with_retry_after_and_the_server_recovers_without_a_restart(
    private_pg: PrivatePostgres, tmp_path: Path
):
    with demo_web(private_pg.database_create("outage"), tmp_path) as server:
        http, auth = server.http, server.auth
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
            message=lambda: server.log_path.read_text()[-3000:],
        )
        assert http.get("/readyz").status_code == 200
    assert_one_log_line_per_burst(server.log_path)


def test_sqlite_locked_past_its_busy_timeout_answers_503_with_retry_after_and_recovers_without_a_restart(
    tmp_path: Path,
):
    """On both test passes: the server runs on its own SQLite file, whatever DATABASE_URL the suite uses. The
    busy timeout is the URL's (query-string options come on top of the defaults, countermand/project/settings.py):
    half a second instead of 30, so that a request meets the lock's end of patience quickly."""
    database = tmp_path / "locked.db"
    init = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=500;"
    url = f"sqlite:///{database}?" + urlencode({"timeout": "1", "init_command": init})
    with demo_web(url, tmp_path) as server:
        http, auth = server.http, server.auth
        # The lock holder: another writer of the same file, as a worker or a `manage` command would be.
        holder = sqlite3.connect(database, timeout=1, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            for _ in range(3):
                cancel = http.post("/api/v1/orders/WEB-1001/cancel", headers=auth, json={"reason": "Other"})
                assert cancel.status_code == 503, cancel.text
                assert cancel.headers["Retry-After"] == "5"
                assert cancel.json()["code"] == "DATABASE_UNAVAILABLE"
                assert cancel.json()["message"]
            # Signing in writes too (the attempt is recorded, a token stored).
            sign_in = http.post("/api/v1/auth/token", json={"username": "buyer@example.com", "password": "demo-buyer"})
            assert (sign_in.status_code, sign_in.json()["code"]) == (503, "DATABASE_UNAVAILABLE")
            assert sign_in.headers["Retry-After"] == "5"
            holder.execute("ROLLBACK")

            # The same server, no restart: the write goes through and is stored.
            cancel = http.post("/api/v1/orders/WEB-1001/cancel", headers=auth, json={"reason": "Other"})
            assert cancel.status_code == 200, cancel.text
            assert http.get("/api/v1/orders/WEB-1001", headers=auth).status_code == 200
        finally:
            holder.close()
    logged = assert_one_log_line_per_burst(server.log_path)
    assert "database is locked" in logged
    stored = sqlite3.connect(database)
    try:
        (requests,) = stored.execute(
            "SELECT COUNT(*) FROM cancellations_cancellationrequest r JOIN orders_order o ON o.id = r.order_id "
            "WHERE o.web_order_number = 'WEB-1001'"
        ).fetchone()
    finally:
        stored.close()
    assert requests == 1  # the four refused requests changed nothing; the one after the lock, once
