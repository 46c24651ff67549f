from typing import Any

from django.core.management.base import BaseCommand, CommandError

from countermand.cancellations.setup_check import MISSING, OK, setup_check, setup_is_complete

MARKS = {OK: "OK     ", MISSING: "MISSING", "warning": "WARNING"}


class Command(BaseCommand):
    help = "Check the order-cancellation setup against the setup guide; exit 1 when a required step is missing."

    def handle(self, *args: Any, **options: Any) -> None:
        from django.db import connection
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError(
                "The database is not set up yet (unapplied migrations): run `countermand manage migrate` "
                "or `countermand serve`, then check again.",
                returncode=1,
            )
        items = setup_check()
        for item in items:
            style = {OK: self.style.SUCCESS, MISSING: self.style.ERROR}.get(item.state, self.style.WARNING)
            self.stdout.write(style(f"[{MARKS[item.state]}] {item.title}"))
            self.stdout.write(f"          {item.detail}")
            if item.state != OK and item.fix:
                self.stdout.write(f"          fix: {item.fix}")
        if not setup_is_complete(items):
            missing = sum(1 for i in items if i.state == MISSING)
            raise CommandError(f"{missing} required setup step(s) missing.", returncode=1)
        self.stdout.write(self.style.SUCCESS("Order cancellation is set up: every step of the guide is done."))
