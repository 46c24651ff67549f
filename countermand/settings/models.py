from django.conf import settings as django_settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q


class SystemSetting(models.Model):
    """A stored value of a registered setting, for the whole application or for one website."""

    name = models.CharField(max_length=256, db_index=True)
    website = models.ForeignKey("websites.Website", null=True, blank=True, on_delete=models.CASCADE)
    value = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name"], condition=Q(website__isnull=True), name="one_application_value"),
            models.UniqueConstraint(fields=["name", "website"], name="one_value_per_website"),
        ]
        ordering = ["name", "website_id"]

    def __str__(self) -> str:
        scope = f" ({self.website})" if self.website_id else ""
        return f"{self.name}{scope}"


class SettingChange(models.Model):
    """Audit trail: every change of a setting, by whom."""

    name = models.CharField(max_length=256)
    website = models.ForeignKey("websites.Website", null=True, blank=True, on_delete=models.SET_NULL)
    old_value = models.JSONField(null=True)
    new_value = models.JSONField(null=True)
    changed_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.name}: {self.old_value!r} → {self.new_value!r}"


class ConfigurationChange(models.Model):
    """Audit trail of the configuration besides settings: connections, job definitions (with their
    parameters) and order status mappings — what changed, by whom. Passwords are never recorded, only
    that one was set or removed."""

    class Kind(models.TextChoices):
        CONNECTION = "Connection"
        JOB_DEFINITION = "JobDefinition", "Job definition"
        ORDER_STATUS_MAPPING = "OrderStatusMapping", "Order status mapping"
        WEBHOOK_SUBSCRIPTION = "WebhookSubscription", "Webhook subscription"

    class Action(models.TextChoices):
        CREATED = "Created"
        UPDATED = "Updated"
        DELETED = "Deleted"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField()
    object_name = models.CharField(max_length=255)
    action = models.CharField(max_length=10, choices=Action.choices)
    changes = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder, help_text="Field name → [old value, new value]."
    )
    changed_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["kind", "object_id"], name="config_change_object_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_name} {self.action}"
