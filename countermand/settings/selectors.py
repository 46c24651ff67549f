"""Reading settings: website value → application value → registry default, in one query."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from countermand.settings.models import SystemSetting
from countermand.settings.registry import SETTINGS, setting_definition


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


def settings_snapshot(*, names: Iterable[str] | None = None, website_ids: Iterable[int] = ()) -> SettingsSnapshot:
    names = list(names) if names is not None else list(SETTINGS)
    rows = SystemSetting.objects.filter(name__in=names).filter(
        website_id__in=list(website_ids)
    ) | SystemSetting.objects.filter(name__in=names, website__isnull=True)
    return SettingsSnapshot(rows.values_list("name", "website_id", "value"))


def setting_get(name: str, *, website_id: int | None = None) -> Any:
    """The value of one setting, resolved for a website (or application-wide when website_id is None)."""
    setting_definition(name)
    return settings_snapshot(names=[name], website_ids=[website_id] if website_id else []).get(name, website_id)
