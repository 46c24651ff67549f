"""Reading settings: website value → application value → registry default, in one query.

Code reads them typed: `settings_for(website_id=…)` (or `snapshot.for_website(…)` for many websites)
returns a `Settings` with one attribute per registered setting. `SettingsSnapshot.resolve` also says
where a value comes from (website, application or default), for the Admin Console.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from countermand.settings.models import SystemSetting
from countermand.settings.registry import BOOL, CHOICE, INT, LIST, SETTINGS, STRING, setting_definition

WEBSITE_SOURCE, APPLICATION_SOURCE, DEFAULT_SOURCE = "website", "application", "default"


@dataclass(frozen=True)
class ResolvedSetting:
    """A setting's value in force for one scope, where it comes from, and whether that scope stores one."""

    value: Any
    source: str  # website | application | default
    stored: bool  # a row exists at the scope asked for (the website's when one is given)


class SettingsSnapshot:
    """All values of some settings for some websites, loaded with one query and resolved in memory."""

    def __init__(self, rows: Iterable[tuple[str, int | None, Any]]) -> None:
        self._application: dict[str, Any] = {}
        self._website: dict[tuple[str, int], Any] = {}
        for name, website_id, value in rows:
            if website_id is None:
                self._application[name] = value
            else:
                self._website[(name, website_id)] = value

    def get(self, name: str, website_id: int | None = None) -> Any:
        definition = setting_definition(name)
        if website_id is not None and (name, website_id) in self._website:
            return self._website[(name, website_id)]
        if name in self._application:
            return self._application[name]
        default = definition.default
        return list(default) if isinstance(default, list) else default

    def resolve(self, name: str, website_id: int | None = None) -> ResolvedSetting:
        """`get`, plus the value's source and whether the asked scope stores a value."""
        value = self.get(name, website_id)
        if website_id is not None and (name, website_id) in self._website:
            return ResolvedSetting(value, WEBSITE_SOURCE, True)
        stored = website_id is None and name in self._application
        if name in self._application:
            return ResolvedSetting(value, APPLICATION_SOURCE, stored)
        return ResolvedSetting(value, DEFAULT_SOURCE, False)

    def for_website(self, website_id: int | None = None) -> Settings:
        """Every setting of the snapshot, typed, for one website (None: application-wide values).

        The snapshot must hold all settings (settings_snapshot without `names`)."""
        return Settings(**{attribute_name(name): self.get(name, website_id) for name in SETTINGS})


def attribute_name(setting_name: str) -> str:
    """The Settings attribute of a registered setting: OrderCancelJobName → order_cancel_job_name."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", setting_name).lower()


@dataclass(frozen=True)
class Settings:
    """The value of every registered setting for one website (or the application), typed.

    One attribute per registry entry, named by `attribute_name`; the registry stays the one place a
    setting is declared: this class is checked against it when the module loads (names and types), so
    a setting added to the registry without its attribute here fails at start-up."""

    order_cancel_statuses: list[str]
    cancellable_order_statuses: list[str]
    allow_cancellation_request: bool
    order_cancel_job_name: str
    cancellation_requested_status: str
    cancelled_status: str
    cancellation_without_erp_job: str
    cancellation_reasons: list[str]
    cancellation_window_days: int
    show_order_status: bool
    show_erp_order_number: bool
    webhook_failure_streak_limit: int
    webhook_secret_overlap_hours: int
    webhook_notify_email: list[str]
    allow_partial_cancellation: bool


_ANNOTATIONS = {BOOL: "bool", INT: "int", STRING: "str", CHOICE: "str", LIST: "list[str]"}


def _check_settings_class() -> None:
    declared = {f.name: f.type for f in dataclasses.fields(Settings)}
    expected = {attribute_name(d.name): _ANNOTATIONS[d.type] for d in SETTINGS.values()}
    if declared != expected:
        raise AssertionError(f"Settings does not match the registry: declared {declared}, registry {expected}")


_check_settings_class()


def settings_snapshot(*, names: Iterable[str] | None = None, website_ids: Iterable[int] = ()) -> SettingsSnapshot:
    names = list(names) if names is not None else list(SETTINGS)
    rows = SystemSetting.objects.filter(name__in=names).filter(
        website_id__in=list(website_ids)
    ) | SystemSetting.objects.filter(name__in=names, website__isnull=True)
    return SettingsSnapshot(rows.values_list("name", "website_id", "value"))


def settings_for(*, website_id: int | None = None) -> Settings:
    """Every setting's value for one website (None: application-wide), typed; one query."""
    return settings_snapshot(website_ids=[website_id] if website_id else []).for_website(website_id)


def setting_get(name: str, *, website_id: int | None = None) -> Any:
    """The value of one setting, resolved for a website (or application-wide when website_id is None)."""
    setting_definition(name)
    return settings_snapshot(names=[name], website_ids=[website_id] if website_id else []).get(name, website_id)
