"""Waking sleeping workers the moment a job commits, on both databases.

- **PostgreSQL**: `NOTIFY countermand_jobs`, sent inside the transaction that queues jobs, once however
  many it queues; PostgreSQL delivers it at commit and drops it on rollback. Workers `LISTEN` on a
  connection of their own.
- **SQLite**: each worker binds a Unix datagram socket in a directory beside the database file
  (`<database>.wake/`); when a transaction that queued jobs commits, the committing process sends one byte
  to every socket there. Sending never blocks, and a socket whose worker died is removed by the next
  sender. A datagram is a hint, not the queue: a worker that misses one finds the job at its next poll.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import socket
import tempfile
from pathlib import Path

from django.db import connection, transaction

from countermand.integration.db import NOTIFY_CHANNEL

SOCKET_SUFFIX = ".sock"
_UNIX_PATH_MAX = 100  # sockaddr_un holds 108 bytes on Linux (104 on BSDs), the socket's name included


def wake_directory() -> Path | None:
    """Where the sockets of the workers of this SQLite database live (None on PostgreSQL, or for an
    in-memory database). Beside the database file, unless that path is too long for a socket address."""
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict["NAME"])
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    beside = Path(name).resolve().with_name(Path(name).name + ".wake")
    if len(str(beside)) + 24 <= _UNIX_PATH_MAX:
        return beside
    digest = hashlib.sha256(str(beside).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"countermand-wake-{digest}"


def workers_wake_on_commit() -> None:
    """Wake sleeping workers when the current transaction commits. Call it inside the transaction that
    queues jobs; a second call in the same transaction does nothing (one NOTIFY, one round of datagrams)."""
    if any(entry[1] is _workers_wake for entry in connection.run_on_commit):  # (savepoints, func, robust)
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {NOTIFY_CHANNEL}")
    transaction.on_commit(_workers_wake)


def _workers_wake() -> None:
    """After commit: on SQLite, a datagram to every worker's socket (PostgreSQL's NOTIFY is on its way)."""
    directory = wake_directory()
    if directory is None:
        return
    try:
        entries = [entry.path for entry in os.scandir(directory) if entry.name.endswith(SOCKET_SUFFIX)]
    except FileNotFoundError:
        return  # no worker has ever listened here
    if not entries:
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        sender.setblocking(False)
        for path in entries:
            try:
                sender.sendto(b"!", path)
            except ConnectionRefusedError:  # nobody reads it: its worker is gone
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            except (BlockingIOError, FileNotFoundError):
                pass  # its buffer is full (the worker has wake-ups waiting anyway), or it just went away


class WakeSocket:
    """A worker's end on SQLite: a datagram socket in `wake_directory()`; `wait(timeout)` returns True
    when a job was committed meanwhile. Closing removes the socket file."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{os.getpid()}-{secrets.token_hex(4)}{SOCKET_SUFFIX}"
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(str(self.path))

    def wait(self, timeout: float) -> bool:
        self.socket.settimeout(timeout)
        try:
            self.socket.recv(64)
        except TimeoutError:
            return False
        self.socket.setblocking(False)
        with contextlib.suppress(BlockingIOError):  # several commits while it slept are one wake-up
            while self.socket.recv(64):
                pass
        return True

    def close(self) -> None:
        self.socket.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
