"""Fresh databases for the benches: one place that drops, re-creates and migrates a database by URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

from countermand.core.crypto import DEVELOPMENT_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]


def database_recreate(url: str) -> None:
    """Leave an empty database at `url`: a SQLite file (and its WAL files) removed, a PostgreSQL
    database dropped (its sessions ended) and created again."""
    # A bench's workers and servers run in production mode, which needs a key of its own; a throwaway
    # database may use the development key (the bench's processes all read the one they inherit).
    os.environ.setdefault("COUNTERMAND_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.path + suffix).unlink(missing_ok=True)
    elif parsed.scheme.startswith("postgres"):
        import psycopg

        name = parsed.path.lstrip("/")
        with psycopg.connect(url.replace(parsed.path, "/postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')


def database_fresh(url: str) -> None:
    """`database_recreate`, then migrated by `countermand manage migrate`."""
    database_recreate(url)
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "countermand", "manage", "migrate", "-v0"], env=env, check=True, cwd=ROOT)
