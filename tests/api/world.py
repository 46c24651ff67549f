"""The demo world (DESIGN §7 demo data) plus one user per administrator role, and API clients for each.

Shared by the API, storefront and browser tests: `world_build()` loads the demo data and returns the
users and the objects the tests point at.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from countermand.accounts.services import token_issue
from countermand.api.roles import INTEGRATION_ADMIN, ORDER_ADMIN, READ_ONLY_ADMIN
from countermand.core.demo import demo_load
from countermand.websites.models import Website

ROLES = ("anonymous", "buyer_c1000", "buyer_c2000", "read_only_admin", "order_admin", "integration_admin")


@dataclass
class World:
    users: dict[str, object]  # role name → user (no entry for anonymous)
    store: Website  # Demo Store: cancellation on
    counter: Website  # Trade Counter: cancellation off

    def token(self, role: str) -> str:
        """A new bearer token of `role`."""
        raw, _ = token_issue(user=self.users[role])
        return raw

    def api(self, role: str) -> Client:
        """A client that sends `role`'s bearer token (none for anonymous)."""
        if role == "anonymous":
            return Client()
        return Client(headers={"Authorization": f"Bearer {self.token(role)}"})

    def browser(self, role: str) -> Client:
        """A client signed in to the storefront (a session) as `role`."""
        client = Client()
        if role != "anonymous":
            client.force_login(self.users[role])
        return client


def staff_user(username: str, group: str):
    user = get_user_model().objects.create_user(username=username, password="staff-pass-1", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def world_build(sandbox_url: str = "http://127.0.0.1:9/sandbox-erp") -> World:
    demo_load(sandbox_url=sandbox_url)
    User = get_user_model()
    return World(
        users={
            "buyer_c1000": User.objects.get(username="buyer@example.com"),
            "buyer_c2000": User.objects.get(username="other@example.com"),
            "read_only_admin": staff_user("readonly", READ_ONLY_ADMIN),
            "order_admin": staff_user("orderadmin", ORDER_ADMIN),
            "integration_admin": staff_user("integrationadmin", INTEGRATION_ADMIN),
        },
        store=Website.objects.get(name="Demo Store"),
        counter=Website.objects.get(name="Trade Counter"),
    )
