"""`CustomerRefresh`: brings the ERP's bill-to accounts in as our customers (job type Refresh, recurring).

One run, for a connection whose type has a customer source (`Tryton`: parties; `WebService`: the paged
`/customers` endpoint of `connectors.webservice_customers`; `Sandbox`; or a plugin's):

1. every customer the ERP lists is read, in batches of `BatchSize`; new ones are created, changed ones
   (name, active, addresses) updated, unchanged ones not written;
2. our active customers the ERP did not list are deactivated — never deleted: their orders and buyers
   stay — unless the run read nothing at all (an empty answer is more likely a misconfigured ERP than an
   ERP without customers) or `DeactivateUnlisted` is false.

Parameters (declare them on the job definition to use them; all optional): `BatchSize` (Number, default
500), `DeactivateUnlisted` (Boolean, default true). The job's result holds the counts. Run it before the
`OrderHistoryRefresh`, which imports orders of known customers only.
"""

from __future__ import annotations

from typing import Any

from countermand.customers.services import CustomerRefreshCounts, customers_apply, customers_unlisted_deactivate
from countermand.integration.plugin import (
    ParameterSpec,
    ParameterType,
    Processor,
    ProcessorContext,
    ProcessorResult,
    ValidationFailed,
)

DEFAULT_BATCH_SIZE = 500
MAX_NAMES_LOGGED = 20


def _batch_size(value: Any) -> int:
    if value is None or str(value).strip() == "":
        return DEFAULT_BATCH_SIZE
    try:
        size = int(str(value).strip())
    except ValueError:
        raise ValidationFailed(
            f"BatchSize must be a whole number, not {value!r}.", code="INVALID_JOB_PARAMETER"
        ) from None
    if size < 1:
        raise ValidationFailed(f"BatchSize must be at least 1, not {size}.", code="INVALID_JOB_PARAMETER")
    return size


def _listed(numbers: list[str]) -> str:
    return ", ".join(numbers[:MAX_NAMES_LOGGED]) + (" …" if len(numbers) > MAX_NAMES_LOGGED else "")


class CustomerRefresh(Processor):
    """Creates and updates customers from the ERP and deactivates those it no longer lists."""

    name = "CustomerRefresh"
    needs_customer_source = True
    parameters = (
        ParameterSpec("BatchSize", ParameterType.NUMBER, description=f"Default {DEFAULT_BATCH_SIZE}."),
        ParameterSpec(
            "DeactivateUnlisted",
            ParameterType.BOOLEAN,
            description="Deactivate customers the ERP no longer lists (default true).",
        ),
    )
    description = "Brings the ERP's customers (Tryton parties, a WebService's /customers) in (job type Refresh)."

    def execute(self, context: ProcessorContext) -> ProcessorResult:
        batch_size = _batch_size(context.parameters.get("BatchSize"))
        deactivate = str(context.parameters.get("DeactivateUnlisted", "true")).strip().lower() not in {
            "false",
            "0",
            "no",
        }
        source = context.customer_source()
        log = context.logger
        log.info(f"Refreshing customers from {source.label}, {batch_size} at a time.")
        counts = CustomerRefreshCounts()
        listed: set[str] = set()
        for batch in source.customers(batch_size=batch_size):
            listed.update(customers_apply(customers=batch, counts=counts))
        if counts.skipped:
            log.warn(f"{counts.skipped} customer(s) from {source.label} had a customer number we cannot store.")
        if not listed:
            log.warn(f"{source.label} listed no customers: none deactivated (check the connection).")
        elif deactivate:
            gone = customers_unlisted_deactivate(listed=listed)
            counts.deactivated = len(gone)
            if gone:
                log.info(f"{len(gone)} customer(s) no longer listed by the ERP deactivated: {_listed(gone)}.")
        log.info(
            f"Customer refresh done: {counts.created} created, {counts.updated} updated, {counts.unchanged} "
            f"unchanged, {counts.deactivated} deactivated, {counts.skipped} skipped."
        )
        return ProcessorResult(data=counts.as_dict())


PLUGINS = [CustomerRefresh]
