from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from countermand.core.errors import NotFound
from countermand.orders.models import Order
from countermand.orders.policies import (
    ADMIN,
    BUYER,
    Actor,
    CancellationRules,
    cancellation_blockers,
    cancellation_eligibility,
    quantity_text,
)
from countermand.orders.selectors import cancellation_rules, order_get, order_latest_cancellation


class Command(BaseCommand):
    help = "Explain why an order can or cannot be cancelled (by web or ERP order number)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("order_number")

    def handle(self, *args: Any, order_number: str, **options: Any) -> None:
        try:
            order = order_get(order_number)
        except NotFound as exc:
            raise CommandError(exc.message) from exc
        rules = cancellation_rules([order])
        buyer = Actor(kind=BUYER, customer_id=order.customer_id, website_ids=frozenset({order.website_id}))
        blockers = cancellation_blockers(order, rules=rules, actor=buyer)
        self.stdout.write(
            f"Order {order.web_order_number} (ERP {order.erp_order_number or '-'}) of {order.customer} "
            f"on {order.website}: status {order.status} ({rules.display(order.status)})"
        )
        latest = order_latest_cancellation(order)
        if latest is not None:
            self.stdout.write(
                f"Latest cancellation: {latest.state} via {latest.channel}, {latest.created_at:%Y-%m-%d %H:%M}"
                + (f" — ERP: {latest.erp_message}" if latest.erp_message else "")
            )
        if not blockers:
            self.stdout.write(self.style.SUCCESS("It can be cancelled by its buyers."))
        else:
            self.stdout.write(self.style.WARNING("Its buyers cannot cancel it:"))
            for b in blockers:
                self.stdout.write(f"  {b.code}: {b.message}")
        admin_blockers = cancellation_blockers(order, rules=rules, actor=Actor(kind=ADMIN))
        forced_blockers = cancellation_blockers(order, rules=rules, actor=Actor(kind=ADMIN, may_force=True), force=True)
        if not admin_blockers:
            self.stdout.write("An order administrator can cancel it in the Admin Console.")
        elif not forced_blockers:
            self.stdout.write("An administrator with the force-cancel permission can cancel it, giving a reason.")
        else:
            self.stdout.write("Nobody can cancel it: " + "; ".join(b.code for b in forced_blockers) + ".")
        self._explain_lines(order, rules, buyer)

    def _explain_lines(self, order: Order, rules: CancellationRules, buyer: Actor) -> None:
        """Partial cancellation: each line's quantities and what blocks cancelling part of it."""
        lines = list(order.lines.all())
        if not lines:
            return
        eligibility = cancellation_eligibility(order, lines, rules=rules, actor=buyer)
        admin = cancellation_eligibility(order, lines, rules=rules, actor=Actor(kind=ADMIN))
        self.stdout.write("Lines (partial cancellation):")
        for line in lines:
            self.stdout.write(
                f"  line {line.line_number} {line.product_number}: ordered {quantity_text(line.quantity_ordered)}, "
                f"shipped {quantity_text(line.quantity_shipped)}, cancelled {quantity_text(line.quantity_cancelled)}"
                f", cancellable {quantity_text(line.quantity_cancellable)}"
            )
            found = eligibility.line_blockers.get(line.line_number, [])
            if not found and not eligibility.blockers:
                self.stdout.write("    its buyers can cancel part or all of it.")
            for b in found:
                self.stdout.write(f"    {b.code}: {b.message}")
            if found and not admin.line_blockers.get(line.line_number) and not admin.blockers:
                self.stdout.write("    an order administrator can cancel part or all of it.")
