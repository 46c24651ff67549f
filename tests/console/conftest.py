"""Fixtures of the Admin Console tests: users in the three admin roles, a buyer, and clients signed in as each."""

from __future__ import annotations

import base64
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from tests.factories import BuyerAccountFactory, CustomerFactory, StaffFactory, UserFactory, WebsiteFactory
from tests.smtp import smtp_server  # noqa: F401  (a real SMTP server on 127.0.0.1)


def role(name: str) -> Group:
    """One of the admin roles, as the data migration api/0002_admin_roles creates it."""
    return Group.objects.get(name=name)


# Signed in with force_login: no password (an unusable one) spares the slow argon2 hashing in every test.
NO_PASSWORD = None


def staff_in(role_name: str, username: str):
    user = StaffFactory(username=username, password=NO_PASSWORD)
    user.groups.add(role(role_name))
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True, password=NO_PASSWORD)


@pytest.fixture
def read_only_user(db):
    return staff_in("Read-only admin", "reader")


@pytest.fixture
def order_admin_user(db):
    return staff_in("Order admin", "orders")


@pytest.fixture
def integration_admin_user(db):
    return staff_in("Integration admin", "integrator")


@pytest.fixture
def buyer_user(db):
    website = WebsiteFactory(name="Buyer Store")
    account = BuyerAccountFactory(
        customer=CustomerFactory(customer_number="C7777"), websites=[website], user__password=NO_PASSWORD
    )
    return account.user


@pytest.fixture
def admin_client(superuser) -> Client:
    return client_for(superuser)


@pytest.fixture
def reader_client(read_only_user) -> Client:
    return client_for(read_only_user)


@pytest.fixture
def order_client(order_admin_user) -> Client:
    return client_for(order_admin_user)


@pytest.fixture
def integration_client(integration_admin_user) -> Client:
    return client_for(integration_admin_user)


@pytest.fixture
def buyer_client(buyer_user) -> Client:
    return client_for(buyer_user)


class _ErpStub(BaseHTTPRequestHandler):
    """A real HTTP server standing in for an ERP's base URL: /ok, /broken (503), /secured (basic auth), /slow."""

    def do_GET(self) -> None:
        if self.path.startswith("/slow"):
            time.sleep(1.5)
        if self.path.startswith("/broken"):
            self._answer(503)
        elif self.path.startswith("/secured"):
            expected = "Basic " + base64.b64encode(b"erp-user:erp-secret").decode()
            self._answer(200 if self.headers.get("Authorization") == expected else 401)
        else:
            self._answer(200)

    def _answer(self, status: int) -> None:
        body = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def erp_url():
    """Base URL of an HTTP server on 127.0.0.1 (a free port), for *Test connection*."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ErpStub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


from tests.webhooks.conftest import receiver, receivers  # noqa: E402, F401  (the webhooks pages' real receivers)
