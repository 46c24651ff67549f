"""Where processors and connection types come from: the built-ins plus installed plugins.

Plugins register through the ``countermand.processors`` entry-point group. An entry point names either
a Processor subclass, a ConnectionType instance, or a module-level list of either.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from countermand.core.errors import ValidationFailed
from countermand.integration.processors.base import KINDS, Processor

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "countermand.processors"
NONE = "None"


@dataclass(frozen=True)
class ConnectionType:
    """A kind of connection (WebService, Tryton, …): what its options mean and how to check them."""

    name: str
    description: str
    options_help: dict[str, str] = field(default_factory=dict)
    validate_options: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # Admin Console *Test connection*: given the IntegrationConnection, return a short success message or
    # raise with the reason. None: the console makes a plain HTTP request to the connection's URL.
    test: Callable[[Any], str] | None = None

    def clean_options(self, options: Any) -> dict[str, Any]:
        if not isinstance(options, dict):
            raise ValidationFailed("Connection options must be a JSON object.", code="INVALID_CONNECTION_OPTIONS")
        unknown = sorted(set(options) - set(self.options_help))
        if unknown:
            known = ", ".join(sorted(self.options_help)) or "none"
            raise ValidationFailed(
                f"Unknown option(s) {', '.join(unknown)} for a {self.name} connection; known options: {known}.",
                code="INVALID_CONNECTION_OPTIONS",
            )
        return self.validate_options(options) if self.validate_options else options


@dataclass
class Registry:
    processors: dict[str, type[Processor]] = field(default_factory=dict)
    connection_types: dict[str, ConnectionType] = field(default_factory=dict)
    load_errors: list[str] = field(default_factory=list)

    def add(self, item: Any, source: str) -> None:
        if isinstance(item, list | tuple):
            for each in item:
                self.add(each, source)
        elif isinstance(item, type) and issubclass(item, Processor):
            if item.kind not in KINDS:
                self.load_errors.append(f"{source}: processor {item.__name__} has unknown kind {item.kind!r}")
            elif item.name in self.processors and self.processors[item.name] is not item:
                self.load_errors.append(f"{source}: a processor named {item.name!r} is already registered")
            else:
                self.processors[item.name] = item
        elif isinstance(item, ConnectionType):
            self.connection_types[item.name] = item
        else:
            self.load_errors.append(f"{source}: {item!r} is neither a Processor subclass nor a ConnectionType")


def _builtins() -> list[Any]:
    from countermand.integration.processors.builtin import BUILTINS

    return list(BUILTINS)


@functools.cache
def registry() -> Registry:
    """The registry, built once per process from the built-ins and the installed entry points."""
    reg = Registry()
    reg.add(_builtins(), "built-in")
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            reg.add(ep.load(), f"entry point {ep.name} ({ep.value})")
        except Exception as exc:  # a broken plugin must not take the product down; check reports it
            logger.exception("cannot load processor plugin %s", ep.value)
            reg.load_errors.append(f"entry point {ep.name} ({ep.value}) failed to load: {exc}")
    return reg


def processor_get(name: str) -> type[Processor]:
    try:
        return registry().processors[name]
    except KeyError:
        raise ValidationFailed(
            f"There is no processor named {name!r}. Installed: {', '.join(sorted(registry().processors))}.",
            code="UNKNOWN_PROCESSOR",
        ) from None


def processor_choices(kind: str) -> list[str]:
    return [NONE, *sorted(n for n, p in registry().processors.items() if p.kind == kind)]


def connection_type_get(name: str) -> ConnectionType:
    try:
        return registry().connection_types[name]
    except KeyError:
        raise ValidationFailed(
            f"There is no connection type {name!r}. Known: {', '.join(sorted(registry().connection_types))}.",
            code="UNKNOWN_CONNECTION_TYPE",
        ) from None


def definition_processor_problems(
    *, preprocessor: str, integration_processor: str, post_processor: str, connection_type: str | None
) -> list[str]:
    """Why a job definition's processors cannot run: unknown names, wrong kinds, wrong connection type."""
    problems = []
    for field_name, value, kind in (
        ("Preprocessor", preprocessor, "preprocessor"),
        ("Integration processor", integration_processor, "integration"),
        ("Post processor", post_processor, "postprocessor"),
    ):
        if not value or value == NONE:
            continue
        proc = registry().processors.get(value)
        if proc is None:
            problems.append(
                f"{field_name} {value!r} is not installed; choose one of: {', '.join(processor_choices(kind))}."
            )
        elif proc.kind != kind:
            problems.append(f"{field_name} {value!r} is a {proc.kind}, not a {kind}.")
        elif proc.connection_types and connection_type not in proc.connection_types:
            problems.append(
                f"{field_name} {value!r} needs a connection of type {' or '.join(proc.connection_types)}"
                + (f", not {connection_type}." if connection_type else "; the definition has no connection.")
            )
    return problems
