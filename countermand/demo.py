"""Demo data (DESIGN §7): a store, two customers with buyers, an admin, orders in several statuses,
status mappings, the setup guide's settings, and a Sandbox ERP connection with an active OrderCancel job
and an hourly CustomerRefresh job (the Sandbox ERP lists the demo's customers).

Idempotent: running it again changes nothing that exists and only adds what is missing.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from countermand.customers.models import BuyerAccount, Customer
from countermand.integration.models import IntegrationConnection, JobDefinition, JobDefinitionParameter
from countermand.orders.models import Order, OrderLine, OrderStatusMapping
from countermand.settings.models import SystemSetting
from countermand.settings.services import setting_set
from countermand.websites.models import Website

MAPPINGS = [
    # erp status, display name, allow cancellation, allow RMA
    ("Submitted", "Submitted", True, False),
    ("Open", "Open", True, False),
    ("Processing", "Processing", False, False),
    ("Shipped", "Shipped", False, True),
    ("Invoiced", "Invoiced", False, True),
    ("CancellationRequested", "Cancellation Requested", False, False),
    ("Cancelled", "Cancelled", False, False),
]

# (web number, erp number, customer, status, days ago, lines)
SHOWCASE_ORDERS = [
    ("WEB-1001", "ERP-5001", "C1000", "Submitted", 2, [("WID-100", "Blue widget", 10, "12.50")]),
    (
        "WEB-1002",
        "ERP-5002",
        "C1000",
        "Open",
        5,
        [("WID-200", "Red widget", 4, "8.00"), ("BOLT-8", "Bolt M8", 100, "0.15")],
    ),
    ("WEB-1003", "ERP-5003", "C1000", "Processing", 9, [("PIPE-20", "Copper pipe 20 mm", 12, "6.40")]),
    ("WEB-1004", "ERP-5004", "C1000", "Shipped", 20, [("VALVE-1", "Ball valve 1 in", 3, "24.90")]),
    ("WEB-1005", "ERP-5005", "C1000", "Cancelled", 30, [("WID-100", "Blue widget", 1, "12.50")]),
    ("WEB-1006", "ERP-5006", "C1000", "Submitted", 1, [("GLOVE-L", "Work gloves, large", 20, "3.20")]),
    ("WEB-1007", None, "C1000", "Submitted", 0, [("TAPE-50", "Duct tape 50 m", 6, "5.75")]),
    ("WEB-1008", "ERP-5008", "C1000", "Invoiced", 60, [("DRILL-X", "Cordless drill", 1, "129.00")]),
    ("WEB-2001", "ERP-6001", "C2000", "Submitted", 3, [("WID-100", "Blue widget", 50, "12.00")]),
    ("WEB-2002", "ERP-6002", "C2000", "Shipped", 15, [("BOLT-8", "Bolt M8", 500, "0.14")]),
    # Multi-line orders to try partial cancellation on (cancel a line, or 40 of 100).
    (
        "WEB-1009",
        "ERP-5009",
        "C1000",
        "Submitted",
        4,
        [
            ("WID-100", "Blue widget", 10, "12.50"),
            ("BOLT-8", "Bolt M8", 100, "0.15"),
            ("PIPE-20", "Copper pipe 20 mm", 6, "6.40"),
        ],
    ),
    (
        "WEB-2003",
        "ERP-6003",
        "C2000",
        "Open",
        6,
        [("GLOVE-L", "Work gloves, large", 40, "3.00"), ("TAPE-50", "Duct tape 50 m", 12, "5.50")],
    ),
]
STATUS_MIX = ["Submitted", "Open", "Processing", "Shipped", "Shipped", "Invoiced", "Invoiced", "Invoiced", "Cancelled"]
PRODUCTS = [("WID-100", "Blue widget", "12.50"), ("BOLT-8", "Bolt M8", "0.15"), ("PIPE-20", "Copper pipe", "6.40")]


def demo_load(
    *,
    orders: int = 0,
    sandbox_url: str = "http://127.0.0.1:8000/sandbox-erp",
    progress: Callable[[int], None] | None = None,
    admin_account: bool = True,
) -> dict[str, int]:
    """Create the demo data (idempotent) and up to `orders` generated orders. Returns counts created.

    `admin_account=False` creates no `admin` superuser (the console's *Load sample data*: its user is one)."""
    with transaction.atomic():
        created = _base_data(sandbox_url, admin_account=admin_account)
    created["orders"] = created.pop("showcase_orders") + _generated_orders(orders, progress)
    return created


def _base_data(sandbox_url: str, *, admin_account: bool = True) -> dict[str, int]:
    store, _ = Website.objects.get_or_create(name="Demo Store", defaults={"domain": "localhost"})
    counter, _ = Website.objects.get_or_create(name="Trade Counter", defaults={"domain": "counter.localhost"})
    c1000, _ = Customer.objects.get_or_create(
        customer_number="C1000", defaults={"name": "Acme Supplies", "email": "orders@acme.example.com"}
    )
    c2000, _ = Customer.objects.get_or_create(
        customer_number="C2000", defaults={"name": "Globex Industrial", "email": "buying@globex.example.com"}
    )
    User = get_user_model()
    for username, password, customer in (
        ("buyer@example.com", "demo-buyer", c1000),
        ("other@example.com", "demo-other", c2000),
    ):
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username=username, email=username, password=password)
        account, _ = BuyerAccount.objects.get_or_create(user=user, defaults={"customer": customer})
        account.websites.add(store, counter)
    if admin_account and not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "admin@example.com", "demo-admin")

    for status, display, allow_cancel, allow_rma in MAPPINGS:
        OrderStatusMapping.objects.get_or_create(
            erp_order_status=status,
            defaults={"display_name": display, "allow_cancellation": allow_cancel, "allow_rma": allow_rma},
        )

    def initial(name: str, value: object, website: Website | None = None) -> None:
        if not SystemSetting.objects.filter(name=name, website=website).exists():
            setting_set(name=name, value=value, website=website)

    initial("OrderCancelStatuses", ["Submitted"])
    initial("AllowCancellationRequest", True, store)
    initial("CancellableOrderStatuses", ["Submitted", "Open"], store)
    initial("AllowCancellationRequest", False, counter)
    initial("AllowPartialCancellation", True, store)

    connection = IntegrationConnection.objects.filter(name="Sandbox ERP").first()
    if connection is None:
        connection = IntegrationConnection.objects.create(
            name="Sandbox ERP", type_name="Sandbox", url=sandbox_url, log_on="sandbox", timeout_seconds=10
        )
        # Not "sandbox": job logs redact the connection's password, and that word is in the Sandbox's URLs.
        connection.set_password("demo-sandbox-secret")
        connection.save()
    definition, made = JobDefinition.objects.get_or_create(
        name="OrderCancel",
        defaults={
            "description": "Tells the ERP to cancel an order (setup guide: Create the cancel order integration job).",
            "job_type": JobDefinition.JobType.EXECUTION,
            "connection": connection,
            "integration_processor": "WebServiceOrderCancel",
            "max_retries": 5,
            "retry_backoff_seconds": 2,
            "timeout_seconds": 30,
        },
    )
    if made:
        JobDefinitionParameter.objects.create(
            job_definition=definition, sequence=1, name="OrderNumber", value_type="String", prompt="Order Number"
        )
    # Partial cancellations reach the ERP through this parameter (also added to an older demo's definition).
    JobDefinitionParameter.objects.get_or_create(
        job_definition=definition,
        name="CancelLines",
        defaults={"sequence": 2, "value_type": "String", "prompt": "Lines to cancel (JSON; empty: the whole order)"},
    )

    JobDefinition.objects.get_or_create(
        name="CustomerRefresh",
        defaults={
            "description": "Brings the ERP's customers in (the order history refresh imports orders of known "
            "customers only).",
            "job_type": JobDefinition.JobType.REFRESH,
            "connection": connection,
            "integration_processor": "CustomerRefresh",
            "recurring_interval_seconds": 3600,
            "max_retries": 2,
            "retry_backoff_seconds": 30,
            "timeout_seconds": 300,
        },
    )

    customers = {"C1000": c1000, "C2000": c2000}
    buyers = {
        "C1000": User.objects.get(username="buyer@example.com"),
        "C2000": User.objects.get(username="other@example.com"),
    }
    existing = set(
        Order.objects.filter(web_order_number__in=[o[0] for o in SHOWCASE_ORDERS]).values_list(
            "web_order_number", flat=True
        )
    )
    today = timezone.localdate()
    made_orders = 0
    for number, erp_number, customer_number, status, days_ago, lines in SHOWCASE_ORDERS:
        if number in existing:
            continue
        order = Order.objects.create(
            web_order_number=number,
            erp_order_number=erp_number,
            website=store,
            customer=customers[customer_number],
            placed_by=buyers[customer_number],
            order_date=today - datetime.timedelta(days=days_ago),
            customer_po=f"PO-{number[-4:]}",
            status=status,
        )
        total = Decimal(0)
        for i, (product, description, qty, price) in enumerate(lines, start=1):
            line_total = Decimal(price) * qty
            total += line_total
            OrderLine.objects.create(
                order=order,
                line_number=i,
                product_number=product,
                description=description,
                quantity_ordered=qty,
                quantity_shipped=qty if status in ("Shipped", "Invoiced") else 0,
                unit_price=Decimal(price),
                line_total=line_total,
                status=status,
            )
        order.subtotal = order.total = total
        order.save(update_fields=["subtotal", "total"])
        made_orders += 1
    return {"showcase_orders": made_orders}


def _generated_orders(count: int, progress: Callable[[int], None] | None, batch: int = 5000) -> int:
    """Bulk-create generated orders GEN-0000001… up to `count`, two lines each, skipping existing ones."""
    if count <= 0:
        return 0
    store = Website.objects.get(name="Demo Store")
    customers = list(Customer.objects.filter(customer_number__in=["C1000", "C2000"]).order_by("customer_number"))
    existing = set(Order.objects.filter(web_order_number__startswith="GEN-").values_list("web_order_number", flat=True))
    rng = random.Random(42)
    today = timezone.localdate()
    made = 0
    numbers = [f"GEN-{i:07d}" for i in range(1, count + 1)]
    for start in range(0, count, batch):
        chunk = [n for n in numbers[start : start + batch] if n not in existing]
        with transaction.atomic():
            orders = [
                Order(
                    web_order_number=n,
                    erp_order_number=f"GE-{n[4:]}",
                    website=store,
                    customer=customers[i % len(customers)],
                    order_date=today - datetime.timedelta(days=rng.randrange(0, 730)),
                    status=rng.choice(STATUS_MIX),
                    subtotal=Decimal("25.30"),
                    total=Decimal("25.30"),
                )
                for i, n in enumerate(chunk)
            ]
            Order.objects.bulk_create(orders, batch_size=1000)
            if orders and orders[0].pk is None:  # backends that do not return ids
                ids = dict(Order.objects.filter(web_order_number__in=chunk).values_list("web_order_number", "id"))
                for o in orders:
                    o.pk = ids[o.web_order_number]
            lines = []
            for o in orders:
                for line_number, (product, description, price) in enumerate(PRODUCTS[:2], start=1):
                    lines.append(
                        OrderLine(
                            order_id=o.pk,
                            line_number=line_number,
                            product_number=product,
                            description=description,
                            quantity_ordered=2,
                            unit_price=Decimal(price),
                            line_total=Decimal(price) * 2,
                            status=o.status,
                        )
                    )
            OrderLine.objects.bulk_create(lines, batch_size=2000)
        made += len(orders)
        if progress:
            progress(min(batch, count - start))
    return made
