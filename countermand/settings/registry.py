"""The typed registry of every setting Countermand reads.

A setting is declared here once (name, group, type, default, scope). Values live in SystemSetting rows;
`countermand.settings.services` validates and stores them, `countermand.settings.selectors` reads them
resolving website value → application value → this default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from countermand.core.errors import ValidationFailed

BOOL, INT, STRING, LIST, CHOICE = "bool", "int", "string", "list", "choice"
APPLICATION, WEBSITE = "application", "website"


class SettingError(ValidationFailed):
    code = "INVALID_SETTING"


@dataclass(frozen=True)
class SettingDefinition:
    name: str
    group: str
    type: str
    default: Any
    description: str
    scope: str = APPLICATION
    choices: tuple[str, ...] = field(default_factory=tuple)
    label: str = ""
    # Bounds, so that a value fits what reads it: a whole number's range, a text's (and a list item's)
    # length, a list's number of values.
    min_value: int = 0
    max_value: int = 1_000_000
    max_length: int = 100
    max_items: int = 100

    @property
    def display_label(self) -> str:
        return self.label or self.name

    def parse(self, raw: Any) -> Any:
        """Validate and normalise a value given as JSON data or as text typed by a person."""
        if self.type == BOOL:
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.strip().lower() in {"true", "yes", "1", "on"}:
                return True
            if isinstance(raw, str) and raw.strip().lower() in {"false", "no", "0", "off"}:
                return False
            raise SettingError(f"{self.name} takes True or False, not {raw!r}.", setting=self.name)
        if self.type == INT:
            return self._parse_int(raw)
        if self.type == STRING:
            if not isinstance(raw, str):
                raise SettingError(f"{self.name} takes text, not {raw!r}.", setting=self.name)
            value = raw.strip()
            if not value:
                raise SettingError(f"{self.name} cannot be empty.", setting=self.name)
            self._check_text(value, what=self.name)
            return value
        if self.type == CHOICE:
            value = str(raw).strip()
            if value not in self.choices:
                raise SettingError(
                    f"{self.name} takes one of {', '.join(self.choices)}, not {raw!r}.", setting=self.name
                )
            return value
        if self.type == LIST:
            return self._parse_list(raw)
        raise AssertionError(f"unknown setting type {self.type}")

    def _parse_int(self, raw: Any) -> int:
        if isinstance(raw, bool):
            raise SettingError(f"{self.name} takes a whole number, not {raw!r}.", setting=self.name)
        try:
            number = int(str(raw).strip())
        except ValueError:
            raise SettingError(f"{self.name} takes a whole number, not {str(raw)[:40]!r}.", setting=self.name) from None
        if not self.min_value <= number <= self.max_value:
            raise SettingError(
                f"{self.name} takes a whole number from {self.min_value} to {self.max_value}, not {number}.",
                setting=self.name,
            )
        return number

    def _parse_list(self, raw: Any) -> list[str]:
        if isinstance(raw, str):
            text = raw.strip()
            if text.startswith("["):
                try:
                    raw = json.loads(text)
                except json.JSONDecodeError:
                    raise SettingError(
                        f"{self.name} takes a list of values; {raw!r} is not valid JSON.", setting=self.name
                    ) from None
            else:
                raw = [part for line in text.splitlines() for part in line.split(",")]
        if not isinstance(raw, list | tuple) or not all(isinstance(v, str) for v in raw):
            raise SettingError(f"{self.name} takes a list of text values, not {str(raw)[:80]!r}.", setting=self.name)
        values = list(dict.fromkeys(v.strip() for v in raw if v.strip()))  # in order, without repeats
        for v in values:
            self._check_text(v, what=f"Each value of {self.name}")
        if len(values) > self.max_items:
            raise SettingError(
                f"{self.name} takes at most {self.max_items} values, not {len(values)}.", setting=self.name
            )
        return values

    def _check_text(self, value: str, *, what: str) -> None:
        """A text value (or list item): at most `max_length` characters, no control characters."""
        if len(value) > self.max_length:
            raise SettingError(
                f"{what} takes at most {self.max_length} characters, not {len(value)}.", setting=self.name
            )
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise SettingError(f"{what} cannot contain control characters.", setting=self.name)

    def to_text(self, value: Any) -> str:
        """A value as a person types it: True/False, a number, text, or one list item per line."""
        if self.type == BOOL:
            return "True" if value else "False"
        if self.type == LIST:
            return "\n".join(value)
        return str(value)


DEFAULT_CANCELLATION_REASONS = [
    "Ordered by mistake",
    "Found a better price",
    "Delivery too late",
    "No longer needed",
    "Other",
]

SETTINGS: dict[str, SettingDefinition] = {
    s.name: s
    for s in [
        SettingDefinition(
            "OrderCancelStatuses",
            "Order Cancellation",
            LIST,
            [],
            "Order statuses in which a cancellation may be requested (the setup guide sets Submitted).",
            max_length=50,
        ),
        SettingDefinition(
            "CancellableOrderStatuses",
            "Order Cancellation",
            LIST,
            [],
            "Further cancellable order statuses, chosen from the Order Status Mapping screen.",
            scope=WEBSITE,
            label="Cancellable Order Statuses",
            max_length=50,
        ),
        SettingDefinition(
            "AllowCancellationRequest",
            "Order Cancellation",
            BOOL,
            False,
            "Shows the Cancel option on the website.",
            scope=WEBSITE,
        ),
        SettingDefinition(
            "OrderCancelJobName",
            "Order Cancellation",
            STRING,
            "OrderCancel",
            "The job definition queued for each cancellation; it tells the ERP.",
            max_length=255,
        ),
        SettingDefinition(
            "CancellationRequestedStatus",
            "Order Cancellation",
            STRING,
            "CancellationRequested",
            "Order status while the ERP has not answered a cancellation.",
            max_length=50,
        ),
        SettingDefinition(
            "CancelledStatus",
            "Order Cancellation",
            STRING,
            "Cancelled",
            "Order status once the ERP confirmed a cancellation.",
            max_length=50,
        ),
        SettingDefinition(
            "CancellationWithoutErpJob",
            "Order Cancellation",
            CHOICE,
            "LocalOnly",
            "What happens when no active OrderCancel job definition exists: LocalOnly cancels on our side only "
            "and flags the cancellation as not sent to the ERP; Refuse does not allow cancelling.",
            choices=("LocalOnly", "Refuse"),
        ),
        SettingDefinition(
            "CancellationReasons",
            "Order Cancellation",
            LIST,
            DEFAULT_CANCELLATION_REASONS,
            "Reasons offered to buyers when they cancel; a reason is required.",
            scope=WEBSITE,
        ),
        SettingDefinition(
            "CancellationWindowDays",
            "Order Cancellation",
            INT,
            0,
            "Days after the order date during which buyers may cancel (0: no limit).",
            scope=WEBSITE,
            max_value=3650,
        ),
        SettingDefinition(
            "ShowOrderStatus",
            "Order History",
            BOOL,
            True,
            "Shows the order status on the storefront.",
            scope=WEBSITE,
        ),
        SettingDefinition(
            "ShowErpOrderNumber",
            "Order History",
            BOOL,
            True,
            "Shows the ERP order number on the storefront.",
            scope=WEBSITE,
        ),
        SettingDefinition(
            "WebhookFailureStreakLimit",
            "Webhooks",
            INT,
            20,
            "Failed delivery attempts in a row after which a webhook subscription is disabled (0: never).",
            max_value=10_000,
        ),
        SettingDefinition(
            "WebhookSecretOverlapHours",
            "Webhooks",
            INT,
            24,
            "Hours the previous signing secret of a webhook subscription still signs after it was replaced.",
            max_value=24 * 90,
        ),
        SettingDefinition(
            "WebhookNotifyEmail",
            "Webhooks",
            LIST,
            [],
            "Addresses told when a webhook subscription is disabled (none: the active superusers).",
            max_length=254,
            max_items=20,
        ),
        SettingDefinition(
            "AllowPartialCancellation",
            "Order Cancellation",
            BOOL,
            False,
            "Lets buyers cancel some lines of an order, or part of a line's quantity (administrators may "
            "always); the OrderCancel job definition must declare the CancelLines parameter.",
            scope=WEBSITE,
        ),
    ]
}


def setting_definition(name: str) -> SettingDefinition:
    try:
        return SETTINGS[name]
    except KeyError:
        close = [n for n in SETTINGS if n.lower() == name.lower()]
        hint = f" Did you mean {close[0]}?" if close else f" Known settings: {', '.join(sorted(SETTINGS))}."
        raise SettingError(f"There is no setting named {name!r}.{hint}", setting=name) from None
