"""Template filters of the Admin Console."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def setting_text(value: Any, none_text: str = "(not set)") -> str:
    """A stored setting value as a person reads it: lists comma-separated, booleans True/False."""
    if value is None:
        return none_text
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "(empty)"
    return str(value)
