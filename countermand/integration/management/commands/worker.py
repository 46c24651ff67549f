import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from countermand.core.crypto import secret_key_require
from countermand.integration.worker import Worker, WorkerOptions


class Command(BaseCommand):
    help = "Run an integration worker: claims queued jobs and delivers them to the ERPs."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, help="jobs run at the same time (threads; default 8)")
        parser.add_argument(
            "--prefetch", type=int, help="jobs claimed ahead for busy threads (default: --concurrency; not ERP jobs)"
        )
        parser.add_argument("--burst", action="store_true", help="run what is due, then exit")
        parser.add_argument("--lease-seconds", type=float, help="job lease, renewed by the heartbeat (default 30)")
        parser.add_argument("--heartbeat-seconds", type=float, help="lease renewal interval (default lease/3)")
        parser.add_argument(
            "--poll-seconds", type=float, help="queue poll interval (default 0.5 on SQLite, 5 on PostgreSQL)"
        )
        parser.add_argument("--retention-days", type=float, help="delete finished jobs older than this (default 30)")
        parser.add_argument("--grace-seconds", type=float, help="on SIGTERM, wait this long for running jobs")
        parser.add_argument("--metrics-port", type=int, help="serve this worker's Prometheus metrics on 127.0.0.1")
        parser.add_argument("--worker-id", default="", help="name in job leases and logs (default host:pid:random)")

    def handle(self, *args, **options):
        try:
            secret_key_require()  # the worker decrypts the ERP passwords: not with the public development key
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        worker = Worker(
            WorkerOptions.from_env(
                concurrency=options["concurrency"],
                prefetch=options["prefetch"],
                burst=options["burst"] or None,
                lease_seconds=options["lease_seconds"],
                heartbeat_seconds=options["heartbeat_seconds"],
                poll_seconds=options["poll_seconds"],
                retention_days=options["retention_days"],
                grace_seconds=options["grace_seconds"],
                metrics_port=options["metrics_port"],
                worker_id=options["worker_id"] or None,
            )
        )
        code = worker.run()
        if worker.hard_stop.is_set():
            # Jobs were handed back while their threads still run (a hung ERP call): do not wait for them.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        sys.exit(code)
