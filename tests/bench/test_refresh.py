"""bench/refresh.py's ERP answers what the WebService order source expects, and the refresh it times
imports and re-applies its orders (a handful of them: no timing here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from countermand.integration.testing import processor_context
from countermand.orders.models import Order, OrderEvent, OrderLine
from countermand.orders.refresh import OrderHistoryRefresh

pytestmark = pytest.mark.django_db


def bench_module() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "refresh.py"
    spec = importlib.util.spec_from_file_location("bench_refresh", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bench_erp_feeds_an_import_and_a_reapply_of_every_order():
    bench = bench_module()
    bench.shop(customers=3)
    with bench.OrdersErp(count=7, customers=3) as erp:
        definition = bench.refresh_definition(erp.url, batch_size=3)

        context = processor_context(definition, parameters={"FullRefresh": "true"})
        first = OrderHistoryRefresh().execute(context)
        assert (first.data["imported"], first.data["rejected"], first.data["unknown_customer"]) == (7, 0, 0)
        assert erp.pages == 3  # 3 + 3 + 1: a short page is the last
        assert OrderLine.objects.count() == 14
        assert set(Order.objects.values_list("status", flat=True)) == {"Open"}
        assert OrderEvent.objects.filter(type=OrderEvent.Type.IMPORTED).count() == 7

        httpx.post(f"{erp.url}/bench/next").raise_for_status()
        context = processor_context(definition, parameters={"FullRefresh": "true"})
        second = OrderHistoryRefresh().execute(context)
        assert (second.data["updated"], second.data["status_changes"], second.data["imported"]) == (7, 7, 0)
        assert set(Order.objects.values_list("status", flat=True)) == {"Shipped"}
        assert OrderEvent.objects.filter(type=OrderEvent.Type.STATUS_CHANGED, new_status="Shipped").count() == 7
        assert OrderLine.objects.count() == 14  # unchanged lines are not rewritten

        answer = httpx.get(f"{erp.url}/orders", params={"orderNumbers": "RE0000002,R0000005,R9999999"}).json()
        assert [o["webOrderNumber"] for o in answer["orders"]] == ["R0000002", "R0000005"]
