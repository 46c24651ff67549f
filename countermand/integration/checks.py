"""Django system checks of the processor plugins (run by `manage.py check`, `migrate` and at start-up).

- countermand.E001: an entry point of the ``countermand.processors`` group failed to load or registered
  something that is not a processor or a connection type.
- countermand.E002: an active job definition names a processor that is not installed, is of the wrong
  kind or does not fit its connection, or lacks a parameter its processor declares (needs the database:
  runs with ``check --database default`` and before ``migrate``).
- countermand.E003: ``COUNTERMAND_LISTEN_DATABASE_URL`` (the direct connection workers LISTEN on) is not a
  valid PostgreSQL URL.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError


@register(Tags.compatibility)
def processor_plugins_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Every installed plugin loaded."""
    from countermand.integration.registry import registry

    return [
        Error(problem, hint="Fix or uninstall the plugin package (pip uninstall …).", id="countermand.E001")
        for problem in registry().load_errors
    ]


@register(Tags.database)
def job_definition_processors_check(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    """Every active job definition's processors are installed and fit the definition."""
    if not databases:  # like Django's own database checks: only when asked (check --database, migrate)
        return []
    from countermand.integration.models import JobDefinition
    from countermand.integration.registry import job_definition_processor_problems

    messages: list[CheckMessage] = []
    try:
        definitions = list(JobDefinition.objects.select_related("connection").prefetch_related("parameters"))
    except DatabaseError:  # not migrated yet: nothing to check
        return []
    for definition in definitions:
        if not definition.is_active:
            continue
        messages.extend(
            Error(
                f"Job definition {definition.name}: {problem}",
                hint="Install the processor package or choose an installed processor in the Admin Console.",
                obj=definition,
                id="countermand.E002",
            )
            for problem in job_definition_processor_problems(definition)
        )
    return messages


@register(Tags.compatibility)
def listen_database_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """COUNTERMAND_LISTEN_DATABASE_URL, when set, is a PostgreSQL URL (the worker would not start its listener)."""
    from countermand.integration.db import listen_connection_params

    try:
        listen_connection_params()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), hint="Point it at the PostgreSQL server itself, not a pooler.", id="countermand.E003")]
    return []
