"""A private PostgreSQL server for tests: its own data folder and port, started and stopped at will.

:class:`PrivatePostgres` runs ``initdb`` (trust authentication, no fsync) into a fresh folder, then
``pg_ctl start`` on a free 127.0.0.1 port with its socket in that folder; :meth:`~PrivatePostgres.stop`
stops it at once (``-m immediate``: what an outage looks like to its clients) and
:meth:`~PrivatePostgres.start` brings it back on the same port and data. :meth:`~PrivatePostgres.close`
stops it and removes the folder. The binaries come from ``/usr/lib/postgresql/<version>/bin`` (the newest
installed) or PATH. PostgreSQL refuses to run as root; as root the server runs as the ``postgres`` user
(or ``nobody``), who is handed the folder.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

INSTALL_HINT: Final = "install PostgreSQL's server: apt-get install -y postgresql"


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries (initdb, pg_ctl) on this machine."""


class PostgresFailed(RuntimeError):
    """The private server did not start or stop; the message has the tail of its log."""


def postgres_bin(name: str) -> str:
    """A PostgreSQL server binary: the newest /usr/lib/postgresql/<version>/bin one, else PATH's."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name or 0))
    for folder in reversed(versions):
        if os.access(folder / name, os.X_OK):
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        raise PostgresMissing(f"PostgreSQL's {name} is not installed: {INSTALL_HINT}")
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user() -> str | None:
    """Who runs the server: None (this user) unless we are root, which PostgreSQL refuses."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise PostgresFailed("running as root and there is no postgres or nobody user to run PostgreSQL as")


class PrivatePostgres:
    """A PostgreSQL server of one's own (see the module docstring). Superuser ``postgres``, trust auth."""

    def __init__(self, folder: Path | None = None) -> None:
        # Its own folder under the system's temp folder by default: the server's user (postgres, when we are
        # root) must reach it, which it cannot inside a folder private to us (pytest's tmp_path).
        self.folder = Path(folder or tempfile.mkdtemp(prefix="countermand-pg-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = _free_port()
        self.user = _server_user()
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self._run(
            [postgres_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"],
            what="initdb",
        )

    def _run(self, command: list[str], *, what: str, timeout: float = 120) -> None:
        done = subprocess.run(
            command, user=self.user, capture_output=True, text=True, timeout=timeout, cwd=self.folder, check=False
        )
        if done.returncode != 0:
            raise PostgresFailed(f"{what} failed ({done.returncode}): {done.stdout[-2000:]}{done.stderr[-2000:]}")

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start (or start again, on the same port and data) and wait until it accepts connections."""
        # fsync off: the machine does not crash in a test, only the server stops. synchronous_commit stays on:
        # `stop` is immediate, and a commit it has not flushed to the WAL would be lost with it.
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        try:
            self._run(
                [postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"],
                what="pg_ctl start",
            )
        except PostgresFailed as exc:
            raise PostgresFailed(f"{exc}\n{self.log_tail()}") from None

    def stop(self) -> None:
        """Stop at once, as an outage would (running sessions are cut, nothing waits for them)."""
        self._run([postgres_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"], what="pg_ctl stop")

    @property
    def running(self) -> bool:
        done = subprocess.run(
            [postgres_bin("pg_ctl"), "-D", str(self.data), "status"], user=self.user, capture_output=True, check=False
        )
        return done.returncode == 0

    def database_create(self, name: str) -> str:
        """Create database `name`; returns its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log_tail(self, characters: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-characters:]
        except OSError:
            return ""

    def close(self) -> None:
        """Stop the server (if running) and remove its folder."""
        if self.data.exists() and self.running:
            with contextlib.suppress(PostgresFailed, subprocess.TimeoutExpired):
                self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A started PrivatePostgres, closed afterwards."""
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.close()
