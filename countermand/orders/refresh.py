"""`OrderHistoryRefresh`: brings the ERP's orders into our order history (job type Refresh, recurring).

One run, for a connection whose type has an order source (`Tryton`, `WebService`, or a plugin's):

1. **Import and update** — the ERP's orders of known customers changed since the previous successful run
   of the same job definition (all orders of the last `LookBackDays` on the first run, or with
   `FullRefresh`), lines included, in batches of `BatchSize`.
2. **Status sweep** — our orders of the website from the last `LookBackDays` that the ERP may still
   change (not in a final status such as Tryton's `done`), and those cancelled here, are looked up in the
   ERP in batches; their statuses are applied and drift is recorded.

The rules for each order are in `reconcile` (matching, open cancellations, drift). Parameters (declare
them on the job definition to use them; all optional): `Website` (name; else the connection's `website`
option, else the only active website), `LookBackDays` (Number, default 90), `FullRefresh` (Boolean),
`BatchSize` (Number, default 100). The job's result holds the counts and the `watermark` the next run
starts from.

The processor is registered like any plugin, through the ``countermand.processors`` entry point
(pyproject.toml names `PLUGINS`); the ERP side is the connection type's order source.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from countermand.core.errors import ValidationFailed
from countermand.customers.models import Customer
from countermand.customers.refresh import CustomerRefresh
from countermand.integration.plugin import (
    ConnectionInfo,
    JobView,
    OrderSource,
    ParameterSpec,
    ParameterType,
    Processor,
    ProcessorContext,
    ProcessorResult,
    last_success_result,
)
from countermand.orders.models import Order
from countermand.orders.reconcile import OrderHistoryReconciler, order_key
from countermand.settings.selectors import setting_get
from countermand.websites.models import Website

DEFAULT_LOOK_BACK_DAYS = 90
DEFAULT_BATCH_SIZE = 100
# Re-read a little before the previous run's start: clocks of two hosts never agree exactly, and an
# order read twice costs nothing (unchanged orders are not written).
WATERMARK_OVERLAP = datetime.timedelta(minutes=10)


def _number(value: Any, name: str, default: int) -> int:
    if value is None or str(value).strip() == "":
        return default
    try:
        number = int(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{name} must be a whole number, not {value!r}.", code="INVALID_JOB_PARAMETER") from None
    if number < 1:
        raise ValidationFailed(f"{name} must be at least 1, not {number}.", code="INVALID_JOB_PARAMETER")
    return number


def _flag(value: Any) -> bool:
    return value is True or str(value).strip().lower() in {"true", "1", "yes"}


def refresh_website(context: ProcessorContext, connection: ConnectionInfo) -> Website:
    """The website imported orders go to: parameter `Website`, else the connection's `website` option, else
    the only active website."""
    name = str(context.parameters.get("Website") or connection.options.get("website") or "").strip()
    if name:
        website = Website.objects.filter(name=name).first()
        if website is None:
            raise ValidationFailed(f"There is no website named {name!r}.", code="UNKNOWN_WEBSITE")
        return website
    websites = list(Website.objects.filter(is_active=True)[:2])
    if len(websites) != 1:
        raise ValidationFailed(
            "Say which website the refreshed orders belong to: a Website parameter on the job definition or "
            "the connection option website.",
            code="UNKNOWN_WEBSITE",
        )
    return websites[0]


def previous_watermark(job: JobView) -> datetime.datetime | None:
    """Where the previous successful run of the same definition started (its `watermark`)."""
    previous = last_success_result(job)
    mark = previous.data.get("watermark") if previous is not None else None
    return datetime.datetime.fromisoformat(mark) if mark else None


class OrderHistoryRefresh(Processor):
    """Imports and updates orders from the ERP, applies its statuses, and records drift."""

    name = "OrderHistoryRefresh"
    needs_order_source = True  # Tryton, WebService, or a plugin's connection type with an order source
    parameters = (
        ParameterSpec("Website", description="Name of the website imported orders belong to."),
        ParameterSpec("LookBackDays", ParameterType.NUMBER, description=f"Default {DEFAULT_LOOK_BACK_DAYS}."),
        ParameterSpec("FullRefresh", ParameterType.BOOLEAN, description="Ignore the previous run's watermark."),
        ParameterSpec("BatchSize", ParameterType.NUMBER, description=f"Default {DEFAULT_BATCH_SIZE}."),
    )
    description = "Brings the ERP's orders of known customers into the order history (job type Refresh)."

    def execute(self, context: ProcessorContext) -> ProcessorResult:
        connection = context.connection
        if connection is None:
            raise ValidationFailed(
                "OrderHistoryRefresh needs a connection on its job definition whose type reads orders from the ERP."
            )
        params = context.parameters
        look_back = _number(params.get("LookBackDays"), "LookBackDays", DEFAULT_LOOK_BACK_DAYS)
        batch_size = _number(params.get("BatchSize"), "BatchSize", DEFAULT_BATCH_SIZE)
        website = refresh_website(context, connection)
        cancelled_status = str(setting_get("CancelledStatus"))
        source = context.order_source(cancelled_status=cancelled_status)

        started = timezone.now()
        since = None if _flag(params.get("FullRefresh")) else previous_watermark(context.job)
        if since is not None:
            since -= WATERMARK_OVERLAP
        cutoff = started - datetime.timedelta(days=look_back)
        customers = dict(Customer.objects.values_list("customer_number", "pk"))
        reconciler = OrderHistoryReconciler(
            website=website,
            customers=customers,
            source=source,
            cancelled_statuses=source.cancelled_statuses | {cancelled_status},
            logger=context.logger,
        )
        context.logger.info(
            f"Refreshing the order history of {website.name} from {source.label}: orders of {len(customers)} "
            + (f"customer(s) changed since {since:%Y-%m-%d %H:%M:%S} UTC." if since else "customer(s), full.")
        )
        seen: set[int] = set()
        for batch in source.changed_orders(
            customer_numbers=sorted(customers), since=since, created_after=cutoff, batch_size=batch_size
        ):
            seen |= reconciler.apply(batch)

        swept = self._sweep(context, source, reconciler, website, cutoff.date(), batch_size, seen)
        counts = reconciler.counts
        context.logger.info(
            f"Refresh done: {counts.imported} imported, {counts.updated} updated "
            f"({counts.status_changes} status changes), {counts.unchanged} unchanged, {swept} swept, "
            f"{counts.held_by_cancellation} held by an open cancellation, {counts.new_drift} new drift, "
            f"{counts.unknown_customer} of unknown customers, {counts.not_found} not found in the ERP."
        )
        return ProcessorResult(
            data={
                **counts.as_dict(),
                "website": website.name,
                "since": since.isoformat() if since else None,
                "watermark": started.isoformat(),
            }
        )

    @staticmethod
    def _sweep(
        context: ProcessorContext,
        source: OrderSource,
        reconciler: OrderHistoryReconciler,
        website: Website,
        cutoff: datetime.date,
        batch_size: int,
        seen: set[int],
    ) -> int:
        """Look up our recent open (and cancelled) orders that step 1 did not see; returns how many."""
        open_orders = (
            Order.objects.filter(website=website, order_date__gte=cutoff)
            .exclude(status__in=source.final_statuses - reconciler.cancelled_statuses)
            .order_by("pk")
        )
        last = 0
        swept = 0
        missing: list[str] = []
        while True:
            # Ids first (an index-only page), then only the orders step 1 did not see, with their lines.
            ids = list(open_orders.filter(pk__gt=last).values_list("pk", flat=True)[: max(batch_size, 1000)])
            if not ids:
                break
            last = ids[-1]
            unseen = [pk for pk in ids if pk not in seen]
            if not unseen:
                continue
            for first in range(0, len(unseen), batch_size):
                batch = list(open_orders.filter(pk__in=unseen[first : first + batch_size]).prefetch_related("lines"))
                if not batch:
                    continue
                swept += len(batch)
                found = reconciler.apply(source.orders_for([order_key(o) for o in batch]), ours=batch)
                missing += [o.web_order_number for o in batch if o.pk not in found]
        if missing:
            reconciler.counts.not_found += len(missing)
            shown = ", ".join(missing[:20]) + (" …" if len(missing) > 20 else "")
            context.logger.info(f"{len(missing)} order(s) of {website.name} not found in {source.label}: {shown}")
        return swept


# CustomerRefresh rides on this module's entry point (order-history-refresh in pyproject.toml): the
# refresh that must run first, shipped with it, without a new entry point to install.
PLUGINS = [OrderHistoryRefresh, CustomerRefresh]
