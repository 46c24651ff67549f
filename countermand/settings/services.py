"""Writing settings: one validated, audited path for the Admin Console, the API and the CLI.

Also the audit trail of the rest of the configuration (connections, job definitions, mappings), which
their services write through `configuration_change_record`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction

from countermand.settings.models import ConfigurationChange, SettingChange, SystemSetting
from countermand.settings.registry import APPLICATION, SettingError, setting_definition


@transaction.atomic
def setting_set(*, name: str, value: Any, website: Any = None, actor: Any = None) -> Any:
    """Validate `value` against the registry and store it for the application or one website.

    Returns the normalised value. Raises SettingError (code INVALID_SETTING) for an unknown name,
    a value of the wrong type, or a website value for an application-wide setting.
    """
    definition = setting_definition(name)
    if website is not None and definition.scope == APPLICATION:
        raise SettingError(f"{name} is an application setting; set it without a website.", setting=name)
    parsed = definition.parse(value)
    row = SystemSetting.objects.select_for_update().filter(name=name, website=website).first()
    if row is None:
        try:
            with transaction.atomic():
                SystemSetting.objects.create(name=name, website=website, value=parsed, updated_by=actor)
        except IntegrityError:
            # A concurrent first set committed the row meanwhile (nothing to lock before it existed):
            # this one then updates it, after it, like any later set.
            row = SystemSetting.objects.select_for_update().get(name=name, website=website)
        else:
            SettingChange.objects.create(name=name, website=website, old_value=None, new_value=parsed, changed_by=actor)
            return parsed
    old = row.value
    row.value = parsed
    row.updated_by = actor
    row.save(update_fields=["value", "updated_by", "updated_at"])
    if old != parsed:
        SettingChange.objects.create(name=name, website=website, old_value=old, new_value=parsed, changed_by=actor)
    return parsed


@transaction.atomic
def setting_reset(*, name: str, website: Any = None, actor: Any = None) -> None:
    """Remove a stored value so the setting falls back to the application value or its default."""
    setting_definition(name)
    row = SystemSetting.objects.select_for_update().filter(name=name, website=website).first()
    if row is not None:
        SettingChange.objects.create(name=name, website=website, old_value=row.value, new_value=None, changed_by=actor)
        row.delete()


# ---------------------------------------------------------------- configuration audit

HIDDEN = "(hidden)"


def configuration_snapshot(instance: Any, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The audited fields of a model row: every concrete field but `exclude` (foreign keys by id)."""
    skipped = {"id", "created_at", "updated_at", *exclude}
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields if f.attname not in skipped}


def configuration_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Field name → [old, new] for the fields whose value differs (a field missing on one side is None)."""
    return {
        name: [before.get(name), after.get(name)]
        for name in sorted({*before, *after})
        if before.get(name) != after.get(name)
    }


def configuration_change_record(
    *,
    kind: str,
    object_id: int,
    object_name: str,
    action: str,
    changes: Mapping[str, Any],
    actor_id: int | None,
) -> ConfigurationChange | None:
    """Audit one change of a connection, job definition or mapping, in the caller's transaction, like
    SettingChange audits settings. An update that changed nothing is not recorded (returns None).
    Callers leave secrets out of `changes` (a password is recorded as HIDDEN, never its value)."""
    if action == ConfigurationChange.Action.UPDATED and not changes:
        return None
    return ConfigurationChange.objects.create(
        kind=kind,
        object_id=object_id,
        object_name=object_name[:255],
        action=action,
        changes=dict(changes),
        changed_by_id=actor_id,
    )
