"""What the API stores for itself: the answers of requests sent with an `Idempotency-Key` (idempotency.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotentRequest(models.Model):
    """The first successful answer to a request a user sent with an `Idempotency-Key`, replayed to a repeat
    of it for 24 hours (`countermand.api.idempotency`), then purged with the job retention."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    endpoint = models.CharField(max_length=200, help_text="Method and path of the request the key was sent with.")
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body, canonical JSON.")
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_idempotency_key_per_user")]

    def __str__(self) -> str:
        return f"{self.key} ({self.endpoint})"
