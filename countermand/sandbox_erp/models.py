"""The Sandbox ERP's own data."""

from __future__ import annotations

from django.db import models


class SandboxErpCancellation(models.Model):
    """The Sandbox ERP's own record of a cancellation it performed: one row per idempotency key.

    The Sandbox ERP (served at /sandbox-erp/ for the demo) answers a repeated key with the stored answer,
    so a delivery retried by the worker has one effect.
    """

    idempotency_key = models.CharField(max_length=100, unique=True)
    order_number = models.CharField(max_length=50, db_index=True)
    http_status = models.PositiveIntegerField()
    answer = models.JSONField(default=dict)
    delivery_count = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    last_delivery_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        db_table = "integration_sandboxerpcancellation"  # the table it had when the engine served the Sandbox

    def __str__(self) -> str:
        return f"{self.order_number} {self.http_status}"
