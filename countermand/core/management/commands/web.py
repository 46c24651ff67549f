import contextlib
import os
import signal
import subprocess
import sys

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
    ]


def run_children(commands: list[list[str]], stdout) -> int:
    """Start the processes, forward Ctrl-C / SIGTERM to all of them, stop all when one exits."""
    children = [subprocess.Popen(cmd, env=os.environ.copy()) for cmd in commands]

    def stop(*_):
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            for child in children:
                code = child.poll()
                if code is not None:
                    stop()
                    for other in children:
                        other.wait(timeout=30)
                    return code
            with contextlib.suppress(subprocess.TimeoutExpired):
                children[0].wait(timeout=0.5)
    except KeyboardInterrupt:
        stdout.write("stopping…")
        stop()
        for child in children:
            child.wait(timeout=30)
        return 0


class Command(BaseCommand):
    help = "Serve the web application with gunicorn (no migrations, no worker)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2, help="web server processes")

    def handle(self, *args, host, port, workers, **options):
        sys.exit(run_children([gunicorn_command(host, port, workers)], self.stdout))
