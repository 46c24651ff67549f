import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from countermand.core.crypto import secret_key_require

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def production_key_require() -> None:
    """`crypto.secret_key_require` as a command's error (the message says how to make a key; no traceback)."""
    try:
        secret_key_require()
    except ImproperlyConfigured as exc:
        raise CommandError(str(exc)) from None


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that makes a child die (SIGTERM) when this process dies, even by SIGKILL, so that a
    killed `serve` or `web` leaves no web server answering on its port and no worker taking jobs.

    Linux's PR_SET_PDEATHSIG, through libc's prctl (looked up here, before the fork: the child only calls it).
    The child checks its parent once the signal is armed: a parent that died in between would never send it.
    None where there is no prctl (not Linux): the children then outlive a killed parent, as before.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def arm() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return arm


def gunicorn_command(host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "countermand.project.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        "4",
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "10",
        # gunicorn's control socket has one default path per user: several servers on a box would share it.
        "--no-control-socket",
        # Request lines up to 8190 bytes (gunicorn's maximum; its default is 4094) reach Django, which answers
        # in JSON. A longer one gets gunicorn's own HTML 414 before Django sees it: a documented exclusion of
        # the schema's promises (see tests/api/test_schemathesis.py).
        "--limit-request-line",
        "8190",
    ]


def run_children(commands: list[list[str]], stdout) -> int:
    """Run the processes until Ctrl-C / SIGTERM, or until one of them exits; then stop them all.

    SIGINT is handled explicitly rather than through KeyboardInterrupt: a shell that starts us in the
    background makes Python ignore SIGINT, and the handlers are set before the children start so that
    they get the default dispositions (a terminal's Ctrl-C reaches them too).
    """
    stopping = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    # The death signal is armed by the thread that forks; this one (the main thread) lives as long as we do.
    preexec = die_with_parent()
    children = [subprocess.Popen(cmd, env=os.environ.copy(), preexec_fn=preexec) for cmd in commands]
    code = 0
    while not stopping.wait(0.5):
        exited = [child for child in children if child.poll() is not None]
        if exited:
            code = exited[0].returncode
            break
    if stopping.is_set():
        stdout.write("stopping…")
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=40)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return code


class Command(BaseCommand):
    help = "Serve the web application with gunicorn (no migrations, no worker)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2, help="web server processes")

    def handle(self, *args, host, port, workers, **options):
        production_key_require()
        sys.exit(run_children([gunicorn_command(host, port, workers)], self.stdout))
