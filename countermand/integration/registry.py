"""Where processors and connection types come from: the packages registered in the
``countermand.processors`` entry-point group — the built-in connectors (`countermand.connectors`), the
orders app's refresh, and third-party plugins alike. An entry point names a Processor subclass, a
ConnectionType instance, or a module-level list of either (see `countermand.integration.plugin`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from countermand.core.errors import ValidationFailed
from countermand.integration.plugin import (
    ENTRY_POINT_GROUP,
    ConnectionType,
    ParameterType,
    Processor,
    ProcessorKind,
)

logger = logging.getLogger(__name__)

NONE = "None"


@dataclass
class Registry:
    """The installed processors and connection types by name, and what could not be loaded."""

    processors: dict[str, type[Processor]] = field(default_factory=dict)
    connection_types: dict[str, ConnectionType] = field(default_factory=dict)
    load_errors: list[str] = field(default_factory=list)

    def add(self, item: Any, source: str) -> None:
        """Register a Processor subclass, a ConnectionType, or a list of them; what is neither (or is
        badly declared) becomes a load error, reported by the system checks and `countermand check`."""
        if isinstance(item, list | tuple):
            for each in item:
                self.add(each, source)
        elif isinstance(item, type) and issubclass(item, Processor):
            problem = _declaration_problem(item)
            if problem:
                self.load_errors.append(f"{source}: processor {item.__name__} {problem}")
            elif item.name in self.processors and self.processors[item.name] is not item:
                self.load_errors.append(f"{source}: a processor named {item.name!r} is already registered")
            else:
                self.processors[item.name] = item
        elif isinstance(item, ConnectionType):
            self.connection_types[item.name] = item
        else:
            self.load_errors.append(f"{source}: {item!r} is neither a Processor subclass nor a ConnectionType")


def _declaration_problem(processor: type[Processor]) -> str:
    if not isinstance(getattr(processor, "name", None), str) or not processor.name:
        return "has no name"
    if processor.kind not in set(ProcessorKind):
        return f"has unknown kind {processor.kind!r}"
    for spec in processor.parameters:
        if spec.type not in set(ParameterType):
            return f"declares parameter {spec.name!r} of unknown type {spec.type!r}"
    return ""


_app_plugins: list[tuple[Any, str]] = []


def app_plugins_register(item: Any, *, source: str) -> None:
    """Register processors or connection types that an installed Django app of this project ships with
    its own models (e.g. the webhooks app's delivery processor), from its `AppConfig.ready()`.

    Entry points are for packages installed on their own; an app that is part of Countermand registers
    here instead, so that its processors come and go with the app in INSTALLED_APPS. `item` is what an
    entry point may name: a Processor subclass, a ConnectionType, or a list of them.
    """
    if all(registered is not item for registered, _ in _app_plugins):
        _app_plugins.append((item, source))
        registry.cache_clear()  # built already (a check ran first): rebuilt with this item on next use


@functools.cache
def registry() -> Registry:
    """The registry, built once per process from the installed entry points and the apps' plugins."""
    reg = Registry()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            reg.add(ep.load(), f"entry point {ep.name} ({ep.value})")
        except Exception as exc:  # a broken plugin must not take the product down; check reports it
            logger.exception("cannot load processor plugin %s", ep.value)
            reg.load_errors.append(f"entry point {ep.name} ({ep.value}) failed to load: {exc}")
    for item, source in _app_plugins:
        reg.add(item, source)
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


def processors_fitting(connection_type: str, kind: str = ProcessorKind.INTEGRATION) -> list[str]:
    """The installed processors of `kind` that accept a connection of `connection_type`, by name: those
    declaring that type in `connection_types` first, then those accepting any connection. What the Admin
    Console offers when pairing a connection with a job definition."""
    processors = [p for p in registry().processors.values() if p.kind == kind]
    declared = sorted(p.name for p in processors if connection_type in p.connection_types)
    anything = sorted(p.name for p in processors if not p.connection_types)
    return declared + anything


def connection_types_accepted(processor_name: str) -> tuple[str, ...]:
    """The connection types a processor declares it accepts (empty: any connection, or none)."""
    processor = registry().processors.get(processor_name)
    return processor.connection_types if processor is not None else ()


def connection_type_get(name: str) -> ConnectionType:
    try:
        return registry().connection_types[name]
    except KeyError:
        raise ValidationFailed(
            f"There is no connection type {name!r}. Known: {', '.join(sorted(registry().connection_types))}.",
            code="UNKNOWN_CONNECTION_TYPE",
        ) from None


def definition_processor_problems(
    *,
    preprocessor: str,
    integration_processor: str,
    post_processor: str,
    connection_type: str | None,
    parameters: Mapping[str, str] | None = None,
) -> list[str]:
    """Why a job definition's processors cannot run: unknown names, wrong kinds, wrong connection type,
    and — given the definition's `parameters` (name → value type) — parameters a processor declares
    (`Processor.parameters`) that are missing (when required) or of another type."""
    problems = []
    for field_name, value, kind in (
        ("Preprocessor", preprocessor, ProcessorKind.PREPROCESSOR),
        ("Integration processor", integration_processor, ProcessorKind.INTEGRATION),
        ("Post processor", post_processor, ProcessorKind.POSTPROCESSOR),
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
        elif proc.needs_order_source and not _has_order_source(connection_type):
            readers = sorted(n for n, t in registry().connection_types.items() if t.order_source is not None)
            problems.append(
                f"{field_name} {value!r} reads orders from the ERP: it needs a connection of type "
                f"{' or '.join(readers)}"
                + (f", not {connection_type}." if connection_type else "; the definition has no connection.")
            )
        elif proc.needs_customer_source and not _has_customer_source(connection_type):
            readers = sorted(n for n, t in registry().connection_types.items() if t.customer_source is not None)
            problems.append(
                f"{field_name} {value!r} reads customers from the ERP: it needs a connection of type "
                f"{' or '.join(readers)}"
                + (f", not {connection_type}." if connection_type else "; the definition has no connection.")
            )
        elif parameters is not None:
            problems += parameter_problems(proc, parameters)
    return problems


def _has_order_source(connection_type: str | None) -> bool:
    ctype = registry().connection_types.get(connection_type or "")
    return ctype is not None and ctype.order_source is not None


def _has_customer_source(connection_type: str | None) -> bool:
    ctype = registry().connection_types.get(connection_type or "")
    return ctype is not None and ctype.customer_source is not None


def parameter_problems(processor: type[Processor], parameters: Mapping[str, str]) -> list[str]:
    """How a definition's parameters (name → value type) fall short of what `processor` declares."""
    problems = []
    for spec in processor.parameters:
        declared = parameters.get(spec.name)
        if declared is None:
            if spec.required:
                problems.append(f"{processor.name} needs a parameter {spec.name} of type {spec.type}.")
        elif declared != spec.type:
            problems.append(f"{processor.name} reads the parameter {spec.name} as {spec.type}, not {declared}.")
    return problems


def job_definition_processor_problems(definition: Any) -> list[str]:
    """`definition_processor_problems` for a saved JobDefinition: its processors against what is
    installed, its connection's type and its parameters (the system checks, `countermand check` and
    saving a definition all ask this)."""
    return definition_processor_problems(
        preprocessor=definition.preprocessor,
        integration_processor=definition.integration_processor,
        post_processor=definition.post_processor,
        connection_type=definition.connection.type_name if definition.connection_id and definition.connection else None,
        # Parameters are saved after their definition: a new one's are checked once they are written.
        parameters={p.name: p.value_type for p in definition.parameters.all()} if definition.pk else None,
    )
