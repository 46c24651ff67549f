import sys
import time

from django.core.management.base import BaseCommand, CommandError

from countermand.core.errors import DomainError
from countermand.integration.models import IntegrationJob, JobDefinition
from countermand.integration.outcomes import FINISHED_STATUSES
from countermand.integration.services import job_run


def parse_params(items: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"--param takes KEY=VALUE, not {item!r}.")
        values[key.strip()] = value
    return values


class Command(BaseCommand):
    help = "Queue a run of a job definition: run-job NAME --param KEY=VALUE … [--wait]."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the job definition's name, e.g. OrderCancel")
        parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="a parameter value")
        parser.add_argument("--wait", action="store_true", help="wait until a worker has finished the job")
        parser.add_argument("--timeout", type=float, default=300.0, help="seconds --wait waits at most")

    def handle(self, *args, name, param, wait, timeout, **options):
        definition = JobDefinition.objects.filter(name=name).first()
        if definition is None:
            known = ", ".join(JobDefinition.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"There is no job definition {name!r}; defined: {known}.")
        try:
            job = job_run(definition_id=definition.pk, parameters=parse_params(param), actor_id=None)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Queued job #{job.pk} ({definition.name}).")
        if not wait:
            return
        deadline = time.monotonic() + timeout
        while True:
            job.refresh_from_db()
            if job.status in FINISHED_STATUSES:
                break
            if time.monotonic() > deadline:
                raise CommandError(f"Job #{job.pk} is still {job.status} after {timeout:.0f} s; is a worker running?")
            time.sleep(0.2)
        for log in job.logs.all():
            self.stdout.write(f"  {log.logged_at:%H:%M:%S} {log.level:<5} {log.message}")
        self.stdout.write(f"Job #{job.pk}: {job.status}" + (f" — {job.error}" if job.error else ""))
        ok = job.status in (IntegrationJob.Status.SUCCESS, IntegrationJob.Status.SUCCESS_WITH_WARNINGS)
        sys.exit(0 if ok else 1)
