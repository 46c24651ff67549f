"""Who is acting: turn a Django user into the Actor the cancellation rules understand."""

from __future__ import annotations

from typing import Any

from countermand.customers.models import BuyerAccount
from countermand.orders.policies import ADMIN, BUYER, Actor


def actor_for_user(user: Any) -> Actor | None:
    """A staff user acts as an administrator, a user with a buyer account as a buyer; others are nobody."""
    if user is None or not user.is_authenticated:
        return None
    if user.is_staff:
        return Actor(
            kind=ADMIN,
            user_id=user.pk,
            may_cancel=user.has_perm("orders.change_order"),
            may_force=user.has_perm("orders.force_cancel_order"),
        )
    account = BuyerAccount.objects.filter(user=user).prefetch_related("websites").first()
    if account is None:
        return None
    return Actor(
        kind=BUYER,
        user_id=user.pk,
        customer_id=account.customer_id,
        website_ids=frozenset(w.pk for w in account.websites.all()),
    )
