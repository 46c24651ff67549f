from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from countermand.orders.policies import line_quantity_cancellable


class Order(models.Model):
    """An order history record: what the ERP knows about an order, as the storefront shows it.

    `status` is the ERP's status code. Only services in countermand.orders.services and
    countermand.cancellations.services change it, each writing an OrderEvent.
    """

    web_order_number = models.CharField(max_length=50, unique=True)
    erp_order_number = models.CharField(max_length=50, null=True, blank=True, unique=True)
    website = models.ForeignKey("websites.Website", on_delete=models.PROTECT, related_name="orders")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="orders")
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order_date = models.DateField()
    customer_po = models.CharField(max_length=50, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    subtotal = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    tax_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    shipping_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    status = models.CharField(max_length=50, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-order_date", "-id"]
        indexes = [
            models.Index(fields=["customer", "website", "-order_date", "-id"], name="order_history_idx"),
            models.Index(fields=["customer", "website", "status", "-order_date"], name="order_history_status_idx"),
        ]
        permissions = [
            ("force_cancel_order", "Can force-cancel an order whose status is not cancellable"),
        ]

    def __str__(self) -> str:
        return self.web_order_number

    @property
    def erp_or_web_number(self) -> str:
        return self.erp_order_number or self.web_order_number


class OrderLine(models.Model):
    """A line of an order. `quantity_ordered` is what the buyer ordered; `quantity_cancelled` the part of it
    cancelled since (a confirmed partial cancellation, or the ERP's word); what may still be cancelled is
    `quantity_cancellable` (ordered - shipped - cancelled)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    product_number = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    quantity_ordered = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    quantity_shipped = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    quantity_cancelled = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    unit_price = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    line_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    status = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["order_id", "line_number"]
        constraints = [models.UniqueConstraint(fields=["order", "line_number"], name="one_line_number_per_order")]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_number} {self.product_number}"

    @property
    def quantity_cancellable(self) -> Decimal:
        """What may still be cancelled: ordered - shipped - already cancelled (never below zero)."""
        return line_quantity_cancellable(self)


class OrderStatusMapping(models.Model):
    """Maps an ERP order status to what buyers see, and says whether orders in it may be cancelled."""

    erp_order_status = models.CharField("ERP order status", max_length=50, unique=True)
    display_name = models.CharField(max_length=50)
    is_default = models.BooleanField(default=False, help_text="Shown when no mapping matches an order's status.")
    allow_rma = models.BooleanField("Allow RMA", default=False)
    allow_cancellation = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["erp_order_status"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_mapping"),
        ]

    def __str__(self) -> str:
        return f"{self.erp_order_status} → {self.display_name}"


class OrderEvent(models.Model):
    """Append-only audit trail: every change of an order writes one."""

    class Type(models.TextChoices):
        IMPORTED = "Imported"
        UPDATED = "Updated"
        STATUS_CHANGED = "StatusChanged"
        CANCELLATION_REQUESTED = "CancellationRequested"
        CANCELLATION_SENT = "CancellationSent"
        CANCELLATION_CONFIRMED = "CancellationConfirmed"
        CANCELLATION_DENIED = "CancellationDenied"
        CANCELLATION_FAILED = "CancellationFailed"
        CANCELLED_LOCALLY = "CancelledLocally"
        CANCELLATION_RESENT = "CancellationResent"
        DRIFT_DETECTED = "DriftDetected"
        DRIFT_RESOLVED = "DriftResolved"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=40, choices=Type.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=20, blank=True)
    old_status = models.CharField(max_length=50, blank=True)
    new_status = models.CharField(max_length=50, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["order_id", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("order events are append-only")
        super().save(*args, **kwargs)


class OrderDrift(models.Model):
    """An order whose state in the ERP contradicts ours, found by an order history refresh."""

    class Kind(models.TextChoices):
        CANCELLED_HERE_NOT_THERE = "CancelledHereNotThere", "Cancelled here, not in the ERP"
        CANCELLED_THERE_NOT_HERE = "CancelledThereNotHere", "Cancelled in the ERP, not here"
        STATUS_MISMATCH = "StatusMismatch", "Statuses differ"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="drifts")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    our_status = models.CharField(max_length=50)
    erp_status = models.CharField(max_length=50)
    message = models.TextField(blank=True)
    detected_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-detected_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind"], condition=Q(resolved_at__isnull=True), name="one_open_drift_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order} {self.kind}"
