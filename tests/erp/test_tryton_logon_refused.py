"""A wrong Tryton password is a configuration error: one log-in attempt, no retry, no breaker, `check` red —
and once the password is fixed, Tryton accepts the log-on at once (no lock-out was provoked)."""

from __future__ import annotations

import sqlite3

import pytest
from django.core.management import CommandError, call_command

from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import cancellation_resend, order_cancel_request
from countermand.cancellations.setup_check import CONNECTION_CONFIGURATION_KEY, MISSING, setup_check
from countermand.connectors.tryton import TRYTON
from countermand.devtools.tryton_server import TrytonServer
from countermand.integration.http import connection_info
from countermand.integration.models import IntegrationConnection, IntegrationJob, JobDefinition
from countermand.integration.services import connection_save
from countermand.orders.policies import ADMIN, Actor
from tests.erp.conftest import TrytonShop
from tests.integration.conftest import drain

pytestmark = [pytest.mark.tryton, pytest.mark.django_db(transaction=True)]
State = CancellationRequest.State
Status = IntegrationJob.Status
Breaker = IntegrationConnection.BreakerState
LOGON_REFUSED = "the ERP refused the log-on: check the connection's user and password"


def failed_log_ins(server: TrytonServer) -> int:
    """Tryton's own count of failed log-ins of the connection's user (its res_user_login_attempt rows)."""
    with sqlite3.connect(server.db_file) as db:
        return db.execute("SELECT count(*) FROM res_user_login_attempt WHERE login = ?", [server.login]).fetchone()[0]


def password_set(shop: TrytonShop, password: str) -> IntegrationConnection:
    """Edit the connection's password as an administrator does (the one write path)."""
    connection = IntegrationConnection.objects.get(pk=shop.connection.pk)
    return connection_save(connection=connection, password=password)


def test_a_wrong_tryton_password_is_tried_once_fails_its_jobs_without_the_breaker_and_a_fix_works_at_once(
    tryton_shop,
):
    server = tryton_shop.server
    JobDefinition.objects.filter(pk=tryton_shop.refresh_definition.pk).update(is_active=False)
    JobDefinition.objects.filter(pk=tryton_shop.cancel_definition.pk).update(max_retries=5, retry_backoff_seconds=0)
    sales = [server.create_sale("quotation") for _ in range(8)]
    orders = [tryton_shop.order_for(sale) for sale in sales]
    password_set(tryton_shop, "not-the-password")
    assert failed_log_ins(server) == 0

    requests = [
        order_cancel_request(order=order, actor=tryton_shop.actor, channel="storefront", reason_code="Other")
        for order in orders
    ]
    drain()

    # One log-in attempt for eight cancellations: Tryton never got near its lock-out (HTTP 429).
    assert failed_log_ins(server) == 1
    jobs = list(IntegrationJob.objects.filter(pk__in=[r.job_id for r in requests]))
    assert {(job.status, job.attempt) for job in jobs} == {(Status.FAILURE, 1)}
    assert all(job.error.startswith(LOGON_REFUSED) and "429" not in job.error for job in jobs)
    for request in requests:
        request.refresh_from_db()
        assert request.state == State.FAILED
        assert request.erp_message.startswith(LOGON_REFUSED)
    connection = IntegrationConnection.objects.get(pk=tryton_shop.connection.pk)
    assert (connection.breaker_state, connection.breaker_failures) == (Breaker.CLOSED, 0)
    assert connection.configuration_error.startswith(LOGON_REFUSED)

    # `countermand check` is red, and says what to fix.
    problems = [item for item in setup_check() if item.key.startswith(CONNECTION_CONFIGURATION_KEY)]
    assert [(item.state, item.detail.split(": ", 1)[1][: len(LOGON_REFUSED)]) for item in problems] == [
        (MISSING, LOGON_REFUSED)
    ]
    with pytest.raises(CommandError, match="required setup step"):
        call_command("setup_check")

    # The password fixed: Test connection gets through at once, the check is green again, the resent
    # cancellations are confirmed.
    connection = password_set(tryton_shop, server.password)
    assert connection.configuration_error == ""
    assert TRYTON.test(connection_info(connection)).startswith("logged in to Tryton")  # type: ignore[misc]
    assert not [item for item in setup_check() if item.key.startswith(CONNECTION_CONFIGURATION_KEY)]
    admin = Actor(kind=ADMIN, user_id=None)
    for request in requests:
        cancellation_resend(request_id=request.pk, actor=admin)
    drain()
    assert {r.state for r in CancellationRequest.objects.filter(pk__in=[r.pk for r in requests])} == {State.CONFIRMED}
    assert [server.sale_state(sale["id"]) for sale in sales] == ["cancelled"] * len(sales)
    assert failed_log_ins(server) == 0  # Tryton forgets a user's failed attempts once it logs in
