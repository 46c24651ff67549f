"""How fast `countermand demo --orders N` fills an empty SQLite database, beside a raw sqlite3 ceiling.

    .venv/bin/python bench/demo_load.py [--orders 100000]

Both runs insert N orders with two lines each into a fresh file; the ceiling is plain `executemany`
into the same tables (no ORM, no model objects), measured in the same run so the ratio is meaningful.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed_demo(path: Path, orders: int) -> float:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}"}
    subprocess.run([sys.executable, "-m", "countermand", "manage", "migrate", "-v0"], env=env, check=True)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "countermand", "demo", "--orders", str(orders)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def timed_ceiling(path: Path, orders: int) -> float:
    """Raw inserts of the same rows into the migrated schema (copied from a migrated database)."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}"}
    subprocess.run([sys.executable, "-m", "countermand", "manage", "migrate", "-v0"], env=env, check=True)
    subprocess.run([sys.executable, "-m", "countermand", "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    website_id, customer_id = db.execute(
        "SELECT w.id, c.id FROM websites_website w, customers_customer c WHERE c.customer_number='C1000' LIMIT 1"
    ).fetchone()
    start = time.perf_counter()
    batch = 5000
    for first in range(0, orders, batch):
        with db:
            rows = [
                (
                    f"RAW-{i:07d}",
                    f"RE-{i:07d}",
                    website_id,
                    customer_id,
                    "2026-01-01",
                    "",
                    "USD",
                    25.3,
                    0,
                    0,
                    25.3,
                    "Invoiced",
                    "2026-01-01",
                    "2026-01-01",
                )
                for i in range(first, min(first + batch, orders))
            ]
            db.executemany(
                "INSERT INTO orders_order (web_order_number, erp_order_number, website_id, customer_id, order_date,"
                " customer_po, currency, subtotal, tax_amount, shipping_amount, total, status, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            ids = db.execute(
                "SELECT id FROM orders_order WHERE web_order_number BETWEEN ? AND ?", (rows[0][0], rows[-1][0])
            ).fetchall()
            db.executemany(
                "INSERT INTO orders_orderline (order_id, line_number, product_number, description, quantity_ordered,"
                " quantity_shipped, unit_price, line_total, status) VALUES (?,?,?,?,?,?,?,?,?)",
                [(oid, n, "WID-100", "Blue widget", 2, 0, 12.5, 25, "Invoiced") for (oid,) in ids for n in (1, 2)],
            )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        demo = timed_demo(Path(tmp) / "demo.db", args.orders)
        ceiling = timed_ceiling(Path(tmp) / "raw.db", args.orders)
    print(f"orders with 2 lines each: {args.orders}")
    print(f"countermand demo --orders: {demo:7.2f} s  {args.orders / demo:9.0f} orders/s")
    print(f"raw sqlite3 executemany:   {ceiling:7.2f} s  {args.orders / ceiling:9.0f} orders/s")
    print(f"demo / ceiling time ratio: {demo / ceiling:7.2f}")


if __name__ == "__main__":
    main()
