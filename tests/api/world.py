"""The demo world (DESIGN §7 demo data) plus one user per administrator role, and API clients for each.

Shared by the API, storefront and browser tests: `world_build()` loads the demo data and returns the
users and the objects the tests point at. `WorldSession` keeps one built world for a run of tests that
use it (the `world` fixture, tests/conftest.py), so it is not built again for every test.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test import Client, override_settings

from countermand.accounts.services import token_issue
from countermand.api.roles import INTEGRATION_ADMIN, ORDER_ADMIN, READ_ONLY_ADMIN
from countermand.demo import demo_load
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
    # get_or_create: a committing test's flush removes the roles the migrations made; a role made here lacks
    # their permissions, so a test that relies on them fails loudly (403s) rather than passing by accident.
    user.groups.add(Group.objects.get_or_create(name=group)[0])
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


class WorldSession:
    """The world built once and kept, in an outer transaction, while consecutive tests use it.

    Each test runs in its own transaction inside the outer one (pytest-django's `db`), so what a test
    writes is rolled back and the next test sees the world as it was built. Before a test that does not
    use the world, `leave()` rolls the outer transaction back: such a test sees an empty database, and a
    test that commits (transactional_db, live_server) can neither see nor flush the world. The next test
    that uses the world builds it again.
    """

    def __init__(self, django_db_blocker) -> None:
        self.blocker = django_db_blocker
        self.world: World | None = None
        self.outer: transaction.Atomic | None = None

    def enter(self) -> World:
        """The built world; builds it in a new outer transaction if there is none."""
        with self.blocker.unblock():
            if self.world is not None:
                if len(connection.atomic_blocks) != 1:
                    pytest.fail("the world must be set up before the test's transaction: drop the django_db mark")
                return self.world
            if connection.in_atomic_block:
                pytest.fail("the world cannot be built inside a test's transaction: request `world` first")
            self.outer = transaction.atomic()
            self.outer.__enter__()
            # The test settings' password hasher (tests/conftest.py), so that signing in as a demo user is quick.
            with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
                self.world = world_build()
            return self.world

    def leave(self) -> None:
        """Roll the world back (nothing to do when it is not built)."""
        if self.outer is None:
            return
        with self.blocker.unblock():
            transaction.set_rollback(True)
            self.outer.__exit__(None, None, None)
        self.outer, self.world = None, None
