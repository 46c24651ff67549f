"""`countermand buyer add EMAIL --customer NUMBER --website NAME [--invite]` and `countermand buyer list`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from countermand.core.errors import DomainError
from countermand.customers.models import Customer
from countermand.customers.selectors import buyers_list
from countermand.customers.services import buyer_create, buyer_invite
from countermand.websites.models import Website


def default_base_url(website: Website) -> str:
    """Where invitation links point without --base-url: the website's domain."""
    scheme = "https" if getattr(settings, "SESSION_COOKIE_SECURE", False) else "http"
    return f"{scheme}://{website.domain or 'localhost'}"


class Command(BaseCommand):
    help = "Add a buyer (a storefront user of one customer and some websites) or list buyers."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="create a buyer; --invite e-mails a link to set a password")
        add.add_argument("email")
        add.add_argument("--customer", required=True, help="the customer number (the ERP's code)")
        add.add_argument("--website", required=True, action="append", help="a website's name (repeat for several)")
        add.add_argument("--invite", action="store_true", help="send the invitation e-mail")
        add.add_argument("--base-url", help="where the invitation link points (default: the website's domain)")
        listing = actions.add_parser("list", help="list buyers")
        listing.add_argument("--customer", default="", help="only this customer's buyers")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            if action == "add":
                self._add(**options)
            else:
                self._list(customer=options["customer"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc

    def _add(
        self, *, email: str, customer: str, website: list[str], invite: bool, base_url: str | None, **_: Any
    ) -> None:
        found = Customer.objects.filter(customer_number=customer).first()
        if found is None:
            raise CommandError(f"There is no customer {customer!r} (countermand customer list shows them).")
        websites = list(Website.objects.filter(name__in=website))
        missing = sorted(set(website) - {w.name for w in websites})
        if missing:
            known = ", ".join(Website.objects.order_by("name").values_list("name", flat=True))
            raise CommandError(f"There is no website {', '.join(map(repr, missing))}; known: {known}.")
        account = buyer_create(email=email, customer=found, websites=websites)
        self.stdout.write(
            f"Buyer {account.user.email} (id {account.pk}) of {found.customer_number} {found.name} on "
            + ", ".join(w.name for w in websites)
            + "."
        )
        if invite:
            url = base_url or default_base_url(websites[0])
            buyer_invite(buyer_id=account.pk, base_url=url)
            self.stdout.write(f"Invitation sent to {account.user.email} (link to {url}).")
        else:
            self.stdout.write("No password yet: send an invitation with the Admin Console or POST buyers/{id}/invite.")

    def _list(self, *, customer: str) -> None:
        buyers = list(buyers_list(customer_number=customer))
        for account in buyers:
            state = "active" if account.user.is_active else "inactive"
            if not account.customer.is_active:
                state += ", customer inactive: cannot sign in"  # the rule of countermand/orders/actors.py
            password = "" if account.user.has_usable_password() else ", no password yet"
            websites = ", ".join(sorted(w.name for w in account.websites.all()))
            self.stdout.write(
                f"{account.user.email or account.user.username:<40} {account.customer.customer_number:<12} "
                f"{websites} ({state}{password})"
            )
        self.stdout.write(f"{len(buyers)} buyer(s).")
