import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand

from countermand.core.management.commands.web import gunicorn_command, run_children


class Command(BaseCommand):
    help = "Migrate the database, load demo data with --demo, and serve the web application with a worker."

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="load the demo data first")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2, help="web server processes")

    def handle(self, *args, demo, host, port, workers, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if demo:
            call_command(
                "demo", sandbox_url=f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/sandbox-erp"
            )
        self.stdout.write(self.style.SUCCESS(f"Countermand on http://{host}:{port}/ (Ctrl-C stops)"))
        commands = [gunicorn_command(host, port, workers)]
        sys.exit(run_children(commands, self.stdout))
