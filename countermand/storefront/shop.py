"""Which website a storefront request is on, and who the buyer is there.

The website is, in this order:
1. the active website whose `domain` is the request's host name — one storefront per domain, the
   normal set-up; a buyer without an account on it is refused;
2. otherwise (the storefront reached by an address that names no website, e.g. 127.0.0.1), the
   buyer's choice — `?website=<id>`, remembered in the session — among their own active websites;
3. otherwise the first of the buyer's active websites by name.
The buyer sees only orders of their customer on that one website.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.http import HttpRequest

from countermand.orders.actors import actor_for_user
from countermand.orders.policies import BUYER, Actor
from countermand.websites.models import Website

SESSION_KEY = "storefront_website_id"


class NoStorefrontAccess(Exception):
    """The signed-in user may not use this storefront; `reason` says why, for the page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Shop:
    """The storefront as one buyer sees it."""

    website: Website
    actor: Actor  # narrowed to this website
    websites: list[Website]  # the buyer's websites, when they may switch between them (no domain match)


def shop_for(request: HttpRequest) -> Shop:
    """The website and the buyer of a signed-in storefront request. Raises NoStorefrontAccess."""
    actor = actor_for_user(request.user)
    if actor is None or actor.kind != BUYER:
        raise NoStorefrontAccess(
            "This account has no buyer account, so it has no orders to show here. "
            "Administrators work in the Admin Console."
        )
    host = request.get_host().rsplit(":", 1)[0].lower()
    by_host = Website.objects.filter(domain__iexact=host, is_active=True).first() if host else None
    if by_host is not None:
        if by_host.pk not in actor.website_ids:
            raise NoStorefrontAccess(f"Your account is not set up for {by_host.name}.")
        return Shop(website=by_host, actor=dataclasses.replace(actor, website_ids=frozenset({by_host.pk})), websites=[])
    websites = list(Website.objects.filter(pk__in=actor.website_ids, is_active=True).order_by("name"))
    if not websites:
        raise NoStorefrontAccess("Your account is not set up for any active website.")
    chosen = request.GET.get("website") or request.session.get(SESSION_KEY)
    website = next((w for w in websites if str(w.pk) == str(chosen)), websites[0])
    if "website" in request.GET and request.session.get(SESSION_KEY) != website.pk:
        request.session[SESSION_KEY] = website.pk  # remembered only when the buyer chose
    return Shop(
        website=website,
        actor=dataclasses.replace(actor, website_ids=frozenset({website.pk})),
        websites=websites if len(websites) > 1 else [],
    )
