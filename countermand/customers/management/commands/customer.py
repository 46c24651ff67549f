"""`countermand customer list [--search TEXT] [--inactive]` and `countermand customer add NUMBER NAME`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from countermand.core.errors import DomainError
from countermand.customers.selectors import customers_list
from countermand.customers.services import customer_create


class Command(BaseCommand):
    help = "List customers, or add one whose number is the ERP's code for it."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="list customers by number")
        listing.add_argument("--search", default="", help="start of the number or part of the name")
        listing.add_argument("--inactive", action="store_true", help="only inactive customers")
        add = actions.add_parser("add", help="add a customer (usually the CustomerRefresh job brings them in)")
        add.add_argument("number", help="the customer number: the ERP's code (Tryton: the party code)")
        add.add_argument("name")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            if action == "add":
                customer = customer_create(customer_number=options["number"], name=options["name"])
                self.stdout.write(f"Customer {customer.customer_number} {customer.name} (id {customer.pk}).")
                return
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        customers = customers_list(search=options["search"], is_active=False if options["inactive"] else None)
        count = 0
        for customer in customers.iterator(chunk_size=1000):
            count += 1
            state = "" if customer.is_active else "  (inactive)"
            self.stdout.write(f"{customer.customer_number:<16} {customer.name}{state}")
        self.stdout.write(f"{count} customer(s).")
