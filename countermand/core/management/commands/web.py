import os
import signal
import subprocess
import sys
import threading

from django.core.management.base import BaseCommand


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
    children = [subprocess.Popen(cmd, env=os.environ.copy()) for cmd in commands]
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
        sys.exit(run_children([gunicorn_command(host, port, workers)], self.stdout))
