"""Partial cancellation of a processing Tryton sale through Tryton's own sale amendment module
(`trytond-sale-amendment`), on a database where it is activated (issue 10)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from countermand.cancellations.models import CancellationRequest
from countermand.connectors.tryton_rpc import clear_session_cache
from countermand.devtools.tryton_server import TrytonServer, TrytonTemplate, running_server
from countermand.orders.models import OrderLine
from tests.erp.test_tryton_partial import (
    allow_partial,
    cancel_lines,
    sale_quantities,
    three_line_sale,
    tryton_shop_mapping_allows,
)
from tests.integration.conftest import drain

pytestmark = [pytest.mark.tryton, pytest.mark.django_db]
State = CancellationRequest.State


@pytest.fixture
def tryton_server(tryton_amendment_template: TrytonTemplate, tmp_path: Path) -> Iterator[TrytonServer]:
    """This module's Tryton runs on the database with sale_amendment activated."""
    clear_session_cache()
    with running_server(tryton_amendment_template, tmp_path / "tryton") as server:
        yield server
    clear_session_cache()


def test_a_processing_sale_is_amended_in_tryton_and_the_request_is_confirmed(tryton_shop):
    allow_partial(tryton_shop)
    tryton_shop_mapping_allows(tryton_shop, "processing")
    sale, order = three_line_sale(tryton_shop, "processing")
    order.status = "processing"
    order.save()
    request = cancel_lines(tryton_shop, order, [(1, "2"), (3, "3")])

    drain()

    request.refresh_from_db()
    assert request.state == State.CONFIRMED, request.erp_message
    assert sale_quantities(tryton_shop, sale) == [3.0, 4.0, 0.0]
    admin = tryton_shop.server.admin
    amendments = admin.call("model.sale.amendment.search_read", [["sale", "=", sale["id"]]], 0, None, None, ["state"])
    assert [a["state"] for a in amendments] == ["validated"]
    assert tryton_shop.server.sale_state(sale["id"]) == "processing"
    cancelled = dict(OrderLine.objects.filter(order=order).values_list("line_number", "quantity_cancelled"))
    assert cancelled == {1: 2, 2: 0, 3: 3}
    order.refresh_from_db()
    assert order.status == "processing"
