"""Run Debian's PgBouncer in transaction pooling mode in front of a PostgreSQL server, for tests and benchmarks.

:func:`pgbouncer_start` writes an ini file and an auth file to a fresh folder, starts ``pgbouncer`` on a free
127.0.0.1 port (``pool_mode = transaction``, ``auth_type = trust``; every database name is passed through
to the server), waits until its admin console answers, and returns a :class:`PgBouncer` whose :meth:`url`
names a database through it. :meth:`PgBouncer.stop` stops it and removes the folder.

PgBouncer refuses to run as root; as root it is started with ``-u postgres`` (or ``nobody``), and its folder
is handed to that user.

Without pytest, ``python -m countermand.devtools.pgbouncer postgres://postgres@127.0.0.1:5432/cm`` runs one
until interrupted and prints the URL to use.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final
from urllib.parse import quote, unquote, urlsplit

# Debian installs it in /usr/sbin, which is not on every user's PATH.
DEBIAN_PGBOUNCER: Final = "/usr/sbin/pgbouncer"
INSTALL_HINT: Final = "install Debian's pgbouncer: apt-get install -y pgbouncer (./scripts/test does)"


class PgBouncerMissing(RuntimeError):
    """PgBouncer is not installed."""


class PgBouncerFailed(RuntimeError):
    """PgBouncer did not start."""


def pgbouncer_executable() -> str:
    """The pgbouncer binary: `$COUNTERMAND_PGBOUNCER`, Debian's, or the one on PATH. Raises PgBouncerMissing."""
    for candidate in (os.environ.get("COUNTERMAND_PGBOUNCER"), DEBIAN_PGBOUNCER, shutil.which("pgbouncer")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise PgBouncerMissing(f"PgBouncer is not installed (no {DEBIAN_PGBOUNCER}): {INSTALL_HINT}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgBouncer:
    """A running PgBouncer (transaction pooling) on 127.0.0.1:`port` in front of `server_host`:`server_port`."""

    process: subprocess.Popen[bytes]
    port: int
    user: str
    password: str
    directory: Path
    server_host: str
    server_port: int
    pool_size: int

    host: ClassVar[str] = "127.0.0.1"

    def url(self, database: str) -> str:
        """`postgres://user@127.0.0.1:port/database`: the database `database` of the server, through PgBouncer."""
        auth = quote(self.user, safe="") + (f":{quote(self.password, safe='')}" if self.password else "")
        return f"postgres://{auth}@{self.host}:{self.port}/{quote(database, safe='')}"

    def show(self, what: str) -> list[dict[str, Any]]:
        """`SHOW what` on the admin console (STATS, POOLS, CLIENTS, SERVERS, …), as one dict per row."""
        import psycopg

        with psycopg.connect(**self._console_params(), autocommit=True, prepare_threshold=None) as conn:
            cursor = conn.execute(f"SHOW {what}")
            names = [column.name for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def transactions(self, database: str) -> int:
        """How many transactions PgBouncer has run for `database` since it started."""
        return sum(int(row["total_xact_count"]) for row in self.show("STATS") if row["database"] == database)

    def log(self) -> str:
        path = self.directory / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Stop it (SIGTERM: PgBouncer closes its server connections at once) and remove its folder."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> PgBouncer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _console_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"host": self.host, "port": self.port, "dbname": "pgbouncer", "user": self.user}
        if self.password:
            params["password"] = self.password
        return params


def _quote_ini(value: str) -> str:
    """A value in a [databases] connection string (libpq style: single quotes, backslash escapes)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _run_as() -> pwd.struct_passwd | None:
    """The user PgBouncer runs as when started by root (it refuses root), else None (the current user)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise PgBouncerFailed("PgBouncer refuses to run as root and there is no postgres or nobody user to run it as")


def pgbouncer_start(
    *,
    server_host: str = "127.0.0.1",
    server_port: int = 5432,
    user: str = "postgres",
    password: str = "",
    pool_size: int = 10,
    max_client_conn: int = 500,
    port: int | None = None,
    timeout: float = 15.0,
) -> PgBouncer:
    """Start PgBouncer in transaction pooling mode on 127.0.0.1 in front of `server_host`:`server_port`.

    Clients log on as `user` with any password (`auth_type = trust`); PgBouncer logs on to the server as
    `user` with `password`. Any database name is passed through. At most `pool_size` server connections per
    database (and in all). Raises PgBouncerMissing when it is not installed, PgBouncerFailed (with its log)
    when it does not answer within `timeout` seconds.
    """
    executable = pgbouncer_executable()
    account = _run_as()
    directory = Path(tempfile.mkdtemp(prefix="countermand-pgbouncer-"))
    port = port or free_port()
    server = f"host={_quote_ini(server_host)} port={server_port} user={_quote_ini(user)}"
    if password:
        server += f" password={_quote_ini(password)}"
    ini = directory / "pgbouncer.ini"
    ini.write_text(
        "\n".join(
            [
                "[databases]",
                f"* = {server}",
                "",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {directory / 'userlist.txt'}",
                f"admin_users = {user}",
                f"stats_users = {user}",
                "pool_mode = transaction",
                f"default_pool_size = {pool_size}",
                f"max_db_connections = {pool_size}",
                f"max_client_conn = {max_client_conn}",
                # Some drivers send it at start-up (not psycopg); PgBouncer would refuse the connection.
                "ignore_startup_parameters = extra_float_digits",
                "",
            ]
        )
    )
    (directory / "userlist.txt").write_text('"' + user.replace('"', '""') + '" ""\n')
    if account is not None:
        for path in (directory, ini, directory / "userlist.txt"):
            os.chown(path, account.pw_uid, account.pw_gid)
    os.chmod(directory, 0o700)
    command = [executable, *(["-u", account.pw_name] if account else []), str(ini)]
    with open(directory / "pgbouncer.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    bouncer = PgBouncer(
        process=process,
        port=port,
        user=user,
        password=password,
        directory=directory,
        server_host=server_host,
        server_port=server_port,
        pool_size=pool_size,
    )
    try:
        _wait_ready(bouncer, timeout)
    except BaseException:
        log_text = bouncer.log()
        bouncer.stop()
        raise PgBouncerFailed(f"PgBouncer did not start on 127.0.0.1:{port}:\n{log_text[-3000:]}") from None
    return bouncer


def _wait_ready(bouncer: PgBouncer, timeout: float) -> None:
    """Until the admin console answers `SHOW VERSION`."""
    deadline = time.monotonic() + timeout
    while True:
        if not bouncer.running():
            raise PgBouncerFailed(f"PgBouncer exited with {bouncer.process.returncode}")
        try:
            bouncer.show("VERSION")
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def pgbouncer_for(database_url: str, **options: Any) -> tuple[PgBouncer, str]:
    """A PgBouncer in front of the server of `database_url` (postgres://…), and the same database through it."""
    parts = urlsplit(database_url)
    bouncer = pgbouncer_start(
        server_host=parts.hostname or "127.0.0.1",
        server_port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
        **options,
    )
    return bouncer, bouncer.url(unquote(parts.path.lstrip("/")))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m countermand.devtools.pgbouncer postgres://user@host:5432/name", file=sys.stderr)
        return 2
    bouncer, url = pgbouncer_for(argv[0])
    print(f"PgBouncer (transaction pooling) on 127.0.0.1:{bouncer.port}: DATABASE_URL={url}", flush=True)
    try:
        bouncer.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        bouncer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
