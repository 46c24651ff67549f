"""The `countermand` command: a thin layer over Django management commands.

countermand serve [--demo] [--host H] [--port P] [--workers N]
countermand web | worker | check | explain ORDER | demo [--orders N] | run-job NAME --param K=V | manage …
countermand buyer add EMAIL --customer NUMBER --website NAME [--invite] | buyer list | customer list | customer add
"""

from __future__ import annotations

import os
import sys

COMMANDS = {
    "serve": "serve",
    "web": "web",
    "worker": "worker",
    "check": "setup_check",
    "explain": "explain",
    "demo": "demo",
    "run-job": "run_job",
    "buyer": "buyer",
    "customer": "customer",
}

USAGE = """usage: countermand COMMAND [options]

commands:
  serve      migrate, optionally load demo data (--demo), run the web server and a worker
  web        run the web server only
  worker     run an integration worker (--concurrency N, --burst)
  check      the setup guide as a checklist; exit status 1 when a required step is missing
  explain    why an order can or cannot be cancelled (ORDER_NUMBER)
  demo       load demo data (idempotent; --orders N adds N generated orders)
  run-job    queue a job: run-job NAME --param KEY=VALUE …
  buyer      buyer add EMAIL --customer NUMBER --website NAME [--invite] | buyer list [--customer NUMBER]
  customer   customer list [--search TEXT] [--inactive] | customer add NUMBER NAME
  manage     any Django management command (countermand manage migrate, createsuperuser, …)

configuration: DATABASE_URL, COUNTERMAND_SECRET_KEY, COUNTERMAND_DEBUG, COUNTERMAND_ALLOWED_HOSTS
"""


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "countermand.project.settings")
    from django.core.management import execute_from_command_line

    if not args or args[0] in {"-h", "--help", "help"}:
        sys.stdout.write(USAGE)
        return
    name, rest = args[0], args[1:]
    if name == "manage":
        execute_from_command_line(["countermand manage", *rest])
        return
    if name not in COMMANDS:
        sys.stderr.write(f"countermand: unknown command {name!r}\n\n{USAGE}")
        sys.exit(2)
    execute_from_command_line([f"countermand {name}", COMMANDS[name], *rest])


if __name__ == "__main__":
    main()
