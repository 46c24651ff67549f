import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


# The job handler (integration/handlers.py) that hears the outcome of a request's delivery job.
ORDER_CANCEL_HANDLER = "OrderCancel"
# What a buyer is told of a Failed request (the storefront's sentence): its `erp_message` is the delivery's
# error, for the Admin Console only — internal text (hosts, HTTP statuses, a connection's user) a buyer must
# not see.
BUYER_FAILED_MESSAGE = (
    "We could not reach our order system yet. Customer service has been alerted and will complete it."
)


class CancellationRequest(models.Model):
    """One attempt to cancel an order, followed until the ERP confirms or denies it.

    At most one *open* request (Requested, Sent, Failed) exists per order; the database enforces it.
    """

    class Channel(models.TextChoices):
        STOREFRONT = "storefront", "Storefront"
        API = "api", "API"  # not Django's derived "Api"
        ADMIN = "admin", "Admin Console"
        BULK = "bulk", "Bulk cancel"

    class State(models.TextChoices):
        REQUESTED = "Requested"
        SENT = "Sent"
        CONFIRMED = "Confirmed"
        DENIED = "Denied"
        FAILED = "Failed"
        LOCAL_ONLY = "LocalOnly", "Local only (not sent to the ERP)"

    OPEN_STATES = (State.REQUESTED, State.SENT, State.FAILED)
    NEEDS_ATTENTION_STATES = (State.FAILED, State.LOCAL_ONLY)

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="cancellation_requests")
    # The order's website, copied when the request is saved (an order never changes website): the insights
    # page filters a website's requests without joining them to every order. Indexed by the index below.
    website = models.ForeignKey("websites.Website", on_delete=models.PROTECT, related_name="+", db_index=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    reason_code = models.CharField(max_length=100)
    reason_text = models.TextField(blank=True)
    forced = models.BooleanField(default=False, help_text="Cancelled by an administrator outside the status rules.")
    previous_status = models.CharField(max_length=50)
    state = models.CharField(max_length=20, choices=State.choices, default=State.REQUESTED, db_index=True)
    erp_message = models.TextField(blank=True)
    erp_reference = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True, default=new_idempotency_key, editable=False)
    job = models.ForeignKey(
        "integration.IntegrationJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    send_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The insights page reads requests by date range, of all websites or one
        # (countermand/cancellations/insights.py); the other columns its aggregates read make these indexes
        # covering, so that they never visit the table's rows.
        indexes = [
            models.Index(
                fields=["created_at", "state", "reason_code", "resolved_at", "job"], name="cancellation_insights_idx"
            ),
            models.Index(
                fields=["website", "created_at", "state", "reason_code", "resolved_at", "job"],
                name="cancellation_website_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(state__in=["Requested", "Sent", "Failed"]),
                name="one_open_cancellation_per_order",
            )
        ]
        permissions = [("resend_cancellation", "Can resend a failed or local-only cancellation to the ERP")]

    def __str__(self) -> str:
        return f"{self.order} {self.state}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.website_id is None and self.order_id is not None:
            self.website_id = self.order.website_id
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def needs_attention(self) -> bool:
        return self.state in self.NEEDS_ATTENTION_STATES

    @property
    def buyer_message(self) -> str:
        """The ERP's message as a buyer may see it: the ERP's own words once it answered; for a Failed request
        the buyer sentence (`BUYER_FAILED_MESSAGE`), never the delivery's error."""
        return BUYER_FAILED_MESSAGE if self.state == self.State.FAILED else self.erp_message

    @property
    def is_partial(self) -> bool:
        """Whether it cancels some lines only (it has lines); uses the prefetched lines when there are."""
        return bool(self.lines.all())


class CancellationRequestLine(models.Model):
    """A line of a partial cancellation: which line of the order and how much of it (none: the whole order).

    `quantity` is what was asked; `quantity_confirmed` what the ERP cancelled (it may report another
    quantity, which wins), set when the request is confirmed. Lines are kept by number, not by row: the
    order history refresh replaces an order's line rows."""

    request = models.ForeignKey(CancellationRequest, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    quantity = models.DecimalField(max_digits=14, decimal_places=3)
    quantity_confirmed = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)

    class Meta:
        ordering = ["request_id", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["request", "line_number"], name="one_cancellation_line_per_line")
        ]

    def __str__(self) -> str:
        return f"{self.request_id}/{self.line_number} x {self.quantity}"
