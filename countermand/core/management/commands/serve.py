import os
import shutil
import sys
import tempfile

from django.core.management import call_command
from django.core.management.base import BaseCommand

from countermand.core.crypto import DEVELOPMENT_SECRET_KEY
from countermand.core.management.commands.web import gunicorn_command, production_key_require, run_children


def worker_command(concurrency: int | None = None) -> list[str]:
    command = [sys.executable, "-m", "countermand", "worker"]
    if concurrency:
        command += ["--concurrency", str(concurrency)]
    return command


class Command(BaseCommand):
    help = "Migrate the database, load demo data with --demo, and serve the web application with a worker."

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="load the demo data first")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2, help="web server processes")
        parser.add_argument("--worker-concurrency", type=int, help="jobs the integration worker runs at once")

    def handle(self, *args, demo, host, port, workers, worker_concurrency, **options):
        if demo:
            # The demo runs out of the box: its children get the development key this process runs on (its
            # Sandbox ERP password is encrypted with it); a key of one's own (COUNTERMAND_SECRET_KEY) wins.
            os.environ.setdefault("COUNTERMAND_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
        else:
            production_key_require()
        call_command("migrate", interactive=False, verbosity=0)
        if demo:
            call_command(
                "demo", sandbox_url=f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/sandbox-erp"
            )
        # The web server's /metrics also shows the worker's histograms: prometheus-client's multiprocess
        # mode, with a directory private to this run.
        metrics_dir = tempfile.mkdtemp(prefix="countermand-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        self.stdout.write(self.style.SUCCESS(f"Countermand on http://{host}:{port}/ with a worker (Ctrl-C stops)"))
        try:
            commands = [gunicorn_command(host, port, workers), worker_command(worker_concurrency)]
            code = run_children(commands, self.stdout)
        finally:
            shutil.rmtree(metrics_dir, ignore_errors=True)
        sys.exit(code)
