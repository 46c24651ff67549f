"""Who may call what: buyers (storefront API) and staff with Django permissions (admin API)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from countermand.orders.actors import actor_for_user
from countermand.orders.policies import BUYER, Actor


class IsBuyer(BasePermission):
    """A signed-in user with a buyer account. Sets `request.actor` for the view."""

    message = "This endpoint is for buyers; administrators use /api/v1/admin/."

    def has_permission(self, request: Any, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        actor = actor_for_user(request.user)
        request.actor = actor
        return actor is not None and actor.kind == BUYER


class HasAdminPermissions(BasePermission):
    """Active staff holding the Django permissions the view names for the action or method.

    Views set `required_permissions`: a dict from action name (viewsets) or HTTP method to a tuple of
    permission names. HEAD and OPTIONS need what GET needs. A request not listed is refused.
    """

    message = "You do not have the permission this requires."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active and user.is_staff):
            return False
        required = view.required_permissions
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        needed = required.get(getattr(view, "action", None) or "", required.get(method))
        return needed is not None and user.has_perms(needed)


def request_actor(request: Any) -> Actor:
    """The Actor for the request's user (set by IsBuyer, else derived)."""
    actor = getattr(request, "actor", None) or actor_for_user(request.user)
    assert actor is not None, "views using request_actor require an authenticated buyer or staff user"
    return actor
