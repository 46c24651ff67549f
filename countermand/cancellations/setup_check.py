"""The setup guide as a live checklist: every step, done or missing, and how to fix it.

Used by `countermand check`, the Admin Console's *Cancellation setup* page and `GET /api/v1/admin/setup/check`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

from countermand.customers.models import Customer
from countermand.integration.models import IntegrationConnection, JobDefinition
from countermand.integration.plugin import CANCEL_LINES_PARAMETER
from countermand.integration.registry import NONE, job_definition_processor_problems, registry
from countermand.integration.selectors import jobs_waiting_on_inactive_connections
from countermand.orders.models import OrderStatusMapping
from countermand.settings.selectors import WEBSITE_SOURCE, settings_snapshot
from countermand.websites.models import Website

OK, MISSING, WARNING = "ok", "missing", "warning"


@dataclass(frozen=True)
class CheckItem:
    key: str
    title: str
    state: str  # ok | missing | warning
    detail: str
    fix: str = ""
    link: str = ""

    @property
    def ok(self) -> bool:
        return self.state == OK

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _link(url_name: str, /, *args: object, **query: str) -> str:
    """The Admin Console page that fixes a step ("" if the console is not routed)."""
    try:
        url = reverse(f"admin:{url_name}", args=args)
    except NoReverseMatch:
        return ""
    return f"{url}?{urlencode(query)}" if query else url


def setup_check() -> list[CheckItem]:
    """Check every step of the setup guide against the database. `missing` items are required steps."""
    items: list[CheckItem] = []
    websites = list(Website.objects.filter(is_active=True))
    snapshot = settings_snapshot(website_ids=[w.pk for w in websites])
    mappings = list(OrderStatusMapping.objects.all())
    allowing = {m.erp_order_status for m in mappings if m.allow_cancellation}

    app_statuses = snapshot.get("OrderCancelStatuses")
    items.append(
        CheckItem(
            "application-setting",
            "Application setting OrderCancelStatuses lists the statuses that may be cancelled",
            OK if app_statuses else MISSING,
            f"OrderCancelStatuses = {', '.join(app_statuses)}" if app_statuses else "OrderCancelStatuses is empty.",
            "Administration › System › Application Settings: filter on OrderCancelStatuses and enter Submitted "
            "(or run: countermand manage setting_set OrderCancelStatuses Submitted).",
            _link("console_application_setting_edit", "OrderCancelStatuses"),
        )
    )

    enabled = [w for w in websites if snapshot.get("AllowCancellationRequest", w.pk)]
    disabled = [w for w in websites if w not in enabled]
    if not websites:
        website_link = _link("websites_website_add")
    elif not enabled:
        # Straight to the one setting that is missing, on the first website that lacks it.
        website_link = _link("websites_website_setting", disabled[0].pk, "AllowCancellationRequest")
    else:
        # Done: the link shows a website where cancellation is ON (not one where it is off).
        website_link = _link("websites_website_change", enabled[0].pk) + "#settings"
    items.append(
        CheckItem(
            "website-setting",
            "Website setting AllowCancellationRequest is True on a website",
            OK if enabled else MISSING,
            (f"Enabled on: {', '.join(w.name for w in enabled)}." if enabled else "")
            + (f" Disabled on: {', '.join(w.name for w in disabled)}." if disabled else "")
            if websites
            else "There is no active website: add one first.",
            "Websites › Edit › Settings: set AllowCancellationRequest to True."
            if websites
            else "Websites › Add New Website, then set its AllowCancellationRequest to True.",
            website_link,
        )
    )

    # A listed status no mapping allows yet: the mapping form opens with it filled in.
    mapped = {m.erp_order_status for m in mappings}
    unmapped = [status for status in app_statuses if status not in mapped]
    items.append(
        CheckItem(
            "status-mapping",
            "Order Status Mapping has a status with Allow Cancellation",
            OK if allowing else MISSING,
            f"Allow Cancellation on: {', '.join(sorted(allowing))}."
            if allowing
            else f"{len(mappings)} mapping(s), none with Allow Cancellation.",
            "Administration › System › Order Status Mapping: create the mapping and tick Allow Cancellation.",
            _link("orders_orderstatusmapping_changelist")
            if allowing
            else _link(
                "orders_orderstatusmapping_add",
                **(
                    {"erp_order_status": unmapped[0], "display_name": unmapped[0], "allow_cancellation": "1"}
                    if unmapped
                    else {}
                ),
            ),
        )
    )

    cancellable_by_site = {w.pk: set(snapshot.get("CancellableOrderStatuses", w.pk)) for w in websites}
    any_cancellable = set().union(*cancellable_by_site.values()) if cancellable_by_site else set()
    if not any_cancellable:
        any_cancellable = set(snapshot.get("CancellableOrderStatuses"))
    # The Settings page opens at the scope that holds the value (or, while it is empty, at the website
    # where cancellation is on): the application scope would show "(empty)" for a website's own value.
    holding = [
        w
        for w in websites
        if cancellable_by_site[w.pk] and snapshot.resolve("CancellableOrderStatuses", w.pk).source == WEBSITE_SOURCE
    ]
    scope_site = holding[0] if holding else (enabled[0] if enabled else None)
    scope_query = {"website": str(scope_site.pk)} if scope_site is not None else {}
    on_sites = f" on {', '.join(w.name for w in holding)}" if holding else ""
    items.append(
        CheckItem(
            "cancellable-statuses",
            "Settings › Cancellable Order Statuses lists the statuses from the mapping screen",
            OK if any_cancellable else MISSING,
            f"Cancellable Order Statuses = {', '.join(sorted(any_cancellable))}{on_sites}."
            if any_cancellable
            else "Cancellable Order Statuses is empty.",
            "Administration › System › Settings › Order Cancellation: add each status (the + button)"
            + (f" for {scope_site.name}." if scope_site is not None else "."),
            _link("console_settings", q="Cancellable Order Statuses", **scope_query),
        )
    )

    listed = set(app_statuses) | any_cancellable
    not_mapped = sorted(listed - allowing)
    not_listed = sorted(allowing - listed)
    if not_mapped or not_listed:
        parts = []
        if not_mapped:
            parts.append(f"listed as cancellable but no mapping allows cancellation: {', '.join(not_mapped)}")
        if not_listed:
            parts.append(f"mapping allows cancellation but no setting lists it: {', '.join(not_listed)}")
        items.append(
            CheckItem(
                "statuses-consistent",
                "Cancellable statuses and the Order Status Mapping agree",
                WARNING,
                "Likely mistake — " + "; ".join(parts) + ". Orders in these statuses cannot be cancelled.",
                "Make the settings and the mappings' Allow Cancellation list the same statuses.",
                _link("orders_orderstatusmapping_changelist"),
            )
        )

    connections = list(IntegrationConnection.objects.filter(is_active=True))
    items.append(
        CheckItem(
            "connection",
            "An active ERP connection exists",
            OK if connections else MISSING,
            f"Connections: {', '.join(f'{c.name} ({c.type_name})' for c in connections)}."
            if connections
            else "There is no active connection.",
            "Administration › Jobs › Connections: add the ERP connection.",
            _link("integration_integrationconnection_changelist")
            if connections
            else _link("integration_integrationconnection_add", name="ERP Connection"),  # the guide's name
        )
    )

    job_name = snapshot.get("OrderCancelJobName")
    definition = (
        JobDefinition.objects.select_related("connection").prefetch_related("parameters").filter(name=job_name).first()
    )
    cancel_on = bool(enabled)
    if definition is None or not definition.is_active:
        state_word = "does not exist" if definition is None else "is not active"
        items.append(
            CheckItem(
                "cancel-job",
                f"An active {job_name} job definition exists",
                MISSING,
                f"IMPORTANT: the {job_name} job definition {state_word}. "
                + (
                    "Cancellation is switched on, so orders cancelled now are cancelled HERE ONLY and the ERP is "
                    "never told."
                    if cancel_on
                    else "Without it, cancellations never reach the ERP."
                ),
                f"Administration › Jobs › Job Definitions: add {job_name} (Job Type Execution, the ERP connection, "
                "your ERP's integration processor, parameter OrderNumber of type String).",
                _link("integration_jobdefinition_add", name=job_name, job_type=JobDefinition.JobType.EXECUTION)
                if definition is None
                else _link("integration_jobdefinition_change", definition.pk),
            )
        )
    else:
        problems = []
        if definition.job_type != JobDefinition.JobType.EXECUTION:
            problems.append(f"job type is {definition.job_type}, the guide says Execution")
        if definition.connection is None:
            problems.append("it has no connection")
        elif not definition.connection.is_active:
            problems.append(f"its connection {definition.connection.name} is not active")
        if not definition.integration_processor or definition.integration_processor == NONE:
            problems.append("it has no integration processor")
        if not any(p.name == "OrderNumber" and p.value_type == "String" for p in definition.parameters.all()):
            problems.append("it has no OrderNumber parameter of type String")
        items.append(
            CheckItem(
                "cancel-job",
                f"An active {job_name} job definition exists",
                MISSING if problems else OK,
                (f"{job_name} is incomplete: " + "; ".join(problems) + ".")
                if problems
                else f"{job_name}: {definition.integration_processor} on {definition.connection}.",
                "Administration › Jobs › Job Definitions › " + job_name + ": fix the Details and Parameters tabs.",
                _link("integration_jobdefinition_change", definition.pk),
            )
        )

    # Partial cancellation offered on a website, but the ERP job cannot carry lines: buyers would be refused.
    partial_sites = [w.name for w in websites if snapshot.get("AllowPartialCancellation", w.pk)]
    takes_lines = (
        definition is not None
        and definition.is_active
        and any(p.name == CANCEL_LINES_PARAMETER for p in definition.parameters.all())
    )
    if partial_sites and not takes_lines:
        items.append(
            CheckItem(
                "partial-cancellation",
                f"The {job_name} job definition carries the lines of partial cancellations",
                WARNING,
                f"AllowPartialCancellation is on for {', '.join(partial_sites)}, but {job_name} has no "
                f"{CANCEL_LINES_PARAMETER} parameter: partial cancellations are refused "
                "(PARTIAL_CANCELLATION_UNSUPPORTED).",
                f"Administration › Jobs › Job Definitions › {job_name} › Parameters: add {CANCEL_LINES_PARAMETER} "
                "(type String).",
                _link("integration_jobdefinition_change", definition.pk)
                if definition is not None
                else _link("integration_jobdefinition_changelist"),
            )
        )

    broken: list[str] = []
    for d in JobDefinition.objects.select_related("connection").prefetch_related("parameters").filter(is_active=True):
        broken.extend(f"{d.name}: {problem}" for problem in job_definition_processor_problems(d))
    broken.extend(registry().load_errors)
    items.append(
        CheckItem(
            "processors",
            "Every job definition's processors are installed",
            MISSING if broken else OK,
            " ".join(broken) if broken else f"{len(registry().processors)} processors installed.",
            "Install the processor package (pip install …) or choose an installed processor.",
            _link("integration_jobdefinition_changelist"),
        )
    )

    items.extend(connection_configuration_problems())

    waiting = jobs_waiting_on_inactive_connections()
    if waiting:
        items.append(
            CheckItem(
                "jobs-waiting-inactive-connection",
                "No queued job waits on an inactive connection",
                WARNING,
                "Queued jobs that no worker runs while their connection is not active: "
                + ", ".join(f"{count} on {name}" for name, count in waiting.items())
                + ".",
                "Administration › Jobs › Connections: activate the connection (or cancel its queued jobs).",
                _link("integration_integrationconnection_changelist", is_active__exact="0"),
            )
        )

    customers_item = customer_sync_check()
    if customers_item is not None:
        items.append(customers_item)

    return items


CONNECTION_CONFIGURATION_KEY = "connection-configuration"


def connection_configuration_problems() -> list[CheckItem]:
    """A required step per active connection whose jobs met a configuration error (the ERP refused the
    log-on): its jobs fail without calling the ERP until the connection is fixed (edited) — so `check` is red
    and the console's banner says so. Nothing when every connection is fine."""
    broken = IntegrationConnection.objects.filter(is_active=True).exclude(configuration_error="").order_by("name")
    return [
        CheckItem(
            f"{CONNECTION_CONFIGURATION_KEY}-{connection.pk}",
            f"The ERP accepts the log-on of connection {connection.name}",
            MISSING,
            f"Jobs of {connection.name} fail without reaching the ERP: {connection.configuration_error}",
            f"Administration › Jobs › Connections › {connection.name}: enter the right user and password, save, "
            "then Test connection; resend the cancellations that failed meanwhile (Cancellations).",
            _link("integration_integrationconnection_change", connection.pk),
        )
        for connection in broken
    ]


def customer_sync_check() -> CheckItem | None:
    """A warning when an order history refresh runs but can import nothing: it imports the orders of known
    customers only, no customer is known, and no job brings customers in from the ERP."""
    processors = registry().processors
    active = set(JobDefinition.objects.filter(is_active=True).values_list("integration_processor", flat=True))
    refreshes = sorted(n for n in active if n in processors and processors[n].needs_order_source)
    syncs = [n for n in active if n in processors and processors[n].needs_customer_source]
    if not refreshes or syncs or Customer.objects.filter(is_active=True).exists():
        return None
    return CheckItem(
        "customer-sync",
        "The order history refresh has customers to import orders for",
        WARNING,
        f"{', '.join(refreshes)} imports the orders of known customers only, but no customer is known and no "
        "active job definition brings customers in from the ERP (CustomerRefresh).",
        "Administration › Jobs › Job Definitions: add a CustomerRefresh definition (job type Refresh, the ERP's "
        "connection, recurring) — or create customers: countermand customer add NUMBER NAME, the REST API "
        "(POST /api/v1/admin/customers) or Customers in the Admin Console. The number must be the ERP's code.",
        _link("integration_jobdefinition_add", name="CustomerRefresh", job_type=JobDefinition.JobType.REFRESH),
    )


def setup_is_complete(items: list[CheckItem]) -> bool:
    return all(item.state != MISSING for item in items)
