"""Latency under `countermand serve`: from a buyer's API call to `Confirmed` (Sandbox ERP), and from a job's
commit to its start, on SQLite and on PostgreSQL.

    .venv/bin/python bench/latency.py [--requests 60] [--only sqlite|postgresql]
                                      [--pg-url postgres://postgres@127.0.0.1:5432/cm_latency_bench]

For each database: a fresh one, `countermand serve --demo` on a free port of 127.0.0.1 (gunicorn and one
worker process, the product's defaults: the worker sleeps until a committed job wakes it — a datagram
on SQLite, NOTIFY on PostgreSQL — and polls only as a fallback). N orders are imported through the admin
API; then, one at a time with a random pause (50 to 300 ms) so each request meets a sleeping worker:

- **API → Confirmed**: `POST /api/v1/orders/{n}/cancel` as the demo buyer (t0), then `GET` the order every
  2 ms until its cancellation reads `Confirmed` (t1): the request's transaction, the wake-up, the claim,
  the Sandbox ERP call over HTTP, the outcome;
- **commit → start**: each OrderCancel job's `started_at - created_at`, read from the job table
  (`created_at` is stamped inside the request's transaction, so this includes a little of the commit).

Prints p50/p95/max of each per database.
"""

from __future__ import annotations

import os
import sys

sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != os.path.dirname(os.path.realpath(__file__))]

import argparse  # noqa: E402
import random  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fresh_postgres(url: str) -> None:
    from countermand.devtools.databases import database_recreate

    database_recreate(url)


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    p50, top = statistics.median(ordered), ordered[-1]
    return f"p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   max {top * 1000:7.1f} ms"


def token(client: httpx.Client, username: str, password: str) -> str:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    response.raise_for_status()
    value: str = response.json()["token"]
    return value


def measure(url: str, requests: int) -> tuple[list[float], list[float]]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "COUNTERMAND_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [sys.executable, "-m", "countermand", "serve", "--demo", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("countermand serve did not come up")
                time.sleep(0.2)
            admin = {"Authorization": f"Bearer {token(client, 'admin', 'demo-admin')}"}
            buyer = {"Authorization": f"Bearer {token(client, 'buyer@example.com', 'demo-buyer')}"}
            websites = client.get("/api/v1/admin/websites", headers=admin).json()
            if isinstance(websites, dict):  # an envelope such as {"websites": [...]}
                websites = next(value for value in websites.values() if isinstance(value, list))
            website_id = websites[0]["id"]
            numbers = [f"LAT-{i:05d}" for i in range(requests)]
            for number in numbers:
                response = client.post(
                    "/api/v1/admin/orders",
                    headers=admin,
                    json={
                        "webOrderNumber": number,
                        "erpOrderNumber": f"E{number}",
                        "websiteId": website_id,
                        "customerNumber": "C1000",
                        "orderDate": "2026-11-30",
                        "status": "Submitted",
                        "orderTotal": 10,
                        "orderLines": [
                            {"lineNumber": 1, "productErpNumber": "WID-1", "qtyOrdered": 1, "unitNetPrice": "10.00"}
                        ],
                    },
                )
                response.raise_for_status()
            reason = client.get(f"/api/v1/orders/{numbers[0]}", headers=buyer).json()["cancellationReasons"][0]
            confirmed = []
            for number in numbers:
                time.sleep(random.uniform(0.05, 0.3))
                started = time.perf_counter()
                answer = client.post(f"/api/v1/orders/{number}/cancel", headers=buyer, json={"reason": reason})
                answer.raise_for_status()
                while True:
                    order = client.get(f"/api/v1/orders/{number}", headers=buyer).json()
                    state = (order.get("cancellation") or {}).get("state")
                    if state == "Confirmed":
                        break
                    if time.perf_counter() - started > 30:
                        raise SystemExit(f"{number} not confirmed after 30 s (state {state})")
                    time.sleep(0.002)
                confirmed.append(time.perf_counter() - started)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=60)
    return confirmed, commit_to_start(url)


def commit_to_start(url: str) -> list[float]:
    code = (
        "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'countermand.project.settings');"
        "django.setup();"
        "from countermand.integration.models import IntegrationJob;"
        "rows = IntegrationJob.objects.filter(order__web_order_number__startswith='LAT-', attempt__gte=1)"
        ".values_list('created_at', 'started_at');"
        "print(' '.join(str((s - c).total_seconds()) for c, s in rows))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DATABASE_URL": url},
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return [float(value) for value in out.stdout.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/cm_latency_bench")
    args = parser.parse_args()
    targets = []
    if args.only in (None, "sqlite"):
        path = Path(tempfile.mkdtemp(prefix="cm-latency-")) / "latency.db"
        targets.append(("sqlite", f"sqlite:///{path}"))
    if args.only in (None, "postgresql"):
        fresh_postgres(args.pg_url)
        targets.append(("postgresql", args.pg_url))
    print(f"{args.requests} cancellations, one at a time, under `countermand serve --demo` (Sandbox ERP)")
    for name, url in targets:
        confirmed, started = measure(url, args.requests)
        print(f"\n{name}")
        print(f"  API call -> Confirmed   {percentiles(confirmed)}")
        print(f"  commit -> start         {percentiles(started)}")


if __name__ == "__main__":
    main()
