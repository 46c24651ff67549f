"""Reads of customers and buyers for the admin API, the CLI and the console (no N+1: one query per list,
plus one for the buyers' websites)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from countermand.customers.models import BuyerAccount, Customer


def customers_list(*, search: str = "", is_active: bool | None = None) -> QuerySet[Customer]:
    """Customers by number; `search`: the start of the number or a part of the name."""
    customers = Customer.objects.all()
    if search:
        customers = customers.filter(Q(customer_number__istartswith=search) | Q(name__icontains=search))
    if is_active is not None:
        customers = customers.filter(is_active=is_active)
    return customers.order_by("customer_number")


def buyers_list(
    *, customer_number: str = "", website_id: int | None = None, search: str = ""
) -> QuerySet[BuyerAccount]:
    """Buyer accounts with their user, customer and websites, by e-mail address."""
    buyers = BuyerAccount.objects.select_related("user", "customer").prefetch_related("websites")
    if customer_number:
        buyers = buyers.filter(customer__customer_number=customer_number)
    if website_id is not None:
        buyers = buyers.filter(websites__id=website_id).distinct()
    if search:
        buyers = buyers.filter(Q(user__email__icontains=search) | Q(user__username__icontains=search))
    return buyers.order_by("user__email", "pk")


def buyer_get(buyer_id: int) -> BuyerAccount | None:
    return buyers_list().filter(pk=buyer_id).first()
