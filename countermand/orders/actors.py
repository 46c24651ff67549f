"""Who is acting: turn a Django user into the Actor the cancellation rules understand.

The one rule for buyers of an inactive customer lives here: such a buyer acts as nobody. Building
their actor raises BuyerCustomerInactive, so every entry point that asks who is acting — the
storefront's sign-in and pages, the buyer REST API (token or session), the token endpoint — refuses
them the way it refuses an inactive user, and none of them checks `Customer.is_active` itself.
"""

from __future__ import annotations

from typing import Any

from countermand.core.errors import DomainError
from countermand.customers.models import BuyerAccount
from countermand.orders.policies import ADMIN, BUYER, Actor


class BuyerCustomerInactive(DomainError):
    """The user is a buyer of a customer that is not active (the ERP no longer lists it, or staff
    deactivated it): answered like an inactive user (401 USER_INACTIVE), with a message saying why."""

    code = "USER_INACTIVE"
    http_status = 401


CUSTOMER_INACTIVE_MESSAGE = "Your company's account is not active; contact customer service."


def actor_for_user(user: Any) -> Actor | None:
    """A staff user acts as an administrator, a user with a buyer account as a buyer; others are nobody.

    Raises BuyerCustomerInactive for a buyer whose customer is inactive."""
    if user is None or not user.is_authenticated:
        return None
    if user.is_staff:
        return Actor(
            kind=ADMIN,
            user_id=user.pk,
            may_cancel=user.has_perm("orders.change_order"),
            may_force=user.has_perm("orders.force_cancel_order"),
        )
    account = BuyerAccount.objects.filter(user=user).select_related("customer").prefetch_related("websites").first()
    if account is None:
        return None
    if not account.customer.is_active:
        raise BuyerCustomerInactive(CUSTOMER_INACTIVE_MESSAGE)
    return Actor(
        kind=BUYER,
        user_id=user.pk,
        customer_id=account.customer_id,
        website_ids=frozenset(w.pk for w in account.websites.all()),
    )
