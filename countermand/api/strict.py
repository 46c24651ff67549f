"""Serializers that refuse fields they do not know.

DRF ignores unknown fields; for the imports an ERP sends, that stored orders without their totals when the
ERP used another name (`subtotal` for `productTotal`). A strict serializer answers 400 instead, naming each
unknown field with the accepted names, and nothing is saved (validation runs before any service).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers


class StrictFieldsMixin:
    """Put it before `serializers.Serializer` in the bases: unknown input fields are 400 VALIDATION_FAILED,
    `fields: {<name>: ["Unknown field; the accepted fields are …"]}` (nested serializers too). Read-only
    fields are known and ignored on input, as DRF does."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            fields = self.fields  # type: ignore[attr-defined]
            accepted = sorted(name for name, field in fields.items() if not field.read_only)
            # A read-only field (an object's `id`, sent back as it was read) is known, just not written.
            unknown = sorted(str(name) for name in data if name not in fields)
            if unknown:
                message = f"Unknown field; the accepted fields are {', '.join(accepted)}."
                raise serializers.ValidationError({name: [message] for name in unknown})
        return super().to_internal_value(data)  # type: ignore[misc]
