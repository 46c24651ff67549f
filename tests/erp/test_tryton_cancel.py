"""TrytonOrderCancel and the Tryton connection type, run against a real trytond 8.2 server."""

from __future__ import annotations

import json

import httpx
import pytest

from countermand.connectors.tryton import (
    TRYTON,
    TrytonOrderCancel,
    TrytonSaleNotFound,
)
from countermand.connectors.tryton_rpc import clear_session_cache
from countermand.core.errors import ValidationFailed
from countermand.devtools.tryton_server import TrytonServer, TrytonTemplate, running_server
from countermand.integration.http import connection_info
from countermand.integration.plugin import ConfigurationError, ErpRejected, TransientError
from countermand.integration.testing import processor_context
from tests.erp.conftest import Ran, TrytonShop

pytestmark = [pytest.mark.tryton, pytest.mark.django_db]


@pytest.fixture(scope="module")
def module_tryton_server(tryton_template: TrytonTemplate, tmp_path_factory: pytest.TempPathFactory):
    with running_server(tryton_template, tmp_path_factory.mktemp("tryton-cancel")) as server:
        yield server


@pytest.fixture
def tryton_server(module_tryton_server: TrytonServer) -> TrytonServer:
    """One server for this module (each test works on sales of its own); restarted if a test stopped it."""
    clear_session_cache()
    module_tryton_server.start()
    return module_tryton_server


def refusal(sale: dict) -> str:
    return f'You can not call "cancel" on "{sale["number"]} [{sale["reference"]}]" of "Sale".'


def cancel(shop: TrytonShop, order=None, **parameters) -> Ran:
    """Run the processor as the worker would; returns the context (log, data) and its result."""
    context = processor_context(shop.cancel_definition, order=order, parameters=parameters)
    methods: list[str] = []
    assert context.connection is not None
    assert context.connection.http is not None
    context.connection.http.event_hooks["request"] = [lambda r: methods.append(json.loads(r.content)["method"])]
    context.data["methods"] = methods
    try:
        result = TrytonOrderCancel().execute(context)
    finally:
        context.connection.http.event_hooks["request"] = []
    return Ran(context, result)


# -- options (no server) ------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({}, '"database"'),
        ({"database": "  "}, '"database"'),
        ({"database": "db", "matchField": "id"}, "matchField must be number or reference"),
        ({"database": "db", "resetConfirmedToDraft": "yes"}, "resetConfirmedToDraft must be true or false"),
        ({"database": "db", "statusCodes": {"shipped": "Shipped"}}, "unknown Tryton state(s) shipped"),
        ({"database": "db", "statusCodes": {"done": ""}}, "statusCodes['done']"),
        ({"database": "db", "colour": "blue"}, "Unknown option(s) colour"),
    ],
)
def test_tryton_connection_options_are_checked_with_a_message_that_says_what_is_wrong(options, complaint):
    with pytest.raises(ValidationFailed) as exc:
        TRYTON.clean_options(options)
    assert complaint in exc.value.message
    assert exc.value.code == "INVALID_CONNECTION_OPTIONS"


def test_valid_tryton_options_are_kept_with_the_database_name_trimmed():
    options = {"database": " prod ", "matchField": "reference", "resetConfirmedToDraft": True, "website": "Shop"}
    assert TRYTON.clean_options(options) == {**options, "database": "prod"}


# -- against Tryton -------------------------------------------------------------


def test_draft_and_quotation_sales_are_cancelled_in_tryton(tryton_shop):
    server = tryton_shop.server
    for state in ("draft", "quotation"):
        sale = server.create_sale(state)
        order = tryton_shop.order_for(sale)
        context = cancel(tryton_shop, order)
        assert server.sale_state(sale["id"]) == "cancelled"
        assert context.result.erp_status == ""  # the order takes the CancelledStatus setting
        assert context.result.erp_reference == (sale["number"] or sale["reference"])
        assert (context.result.erp_message or "").endswith("cancelled in Tryton.")
        assert context.data["methods"][-1] == "model.sale.sale.cancel"


def test_an_already_cancelled_sale_is_confirmed_without_asking_tryton_to_change_it(tryton_shop):
    sale = tryton_shop.server.create_sale("cancelled")
    context = cancel(tryton_shop, tryton_shop.order_for(sale, status="quotation"))
    label = f"{sale['number']} [{sale['reference']}]"
    assert context.result.erp_message == f"Sale {label} was already cancelled in Tryton."
    # `draft` would bring a cancelled sale back to life: only the lookup went to Tryton.
    assert [m for m in context.data["methods"] if not m.startswith("common.")] == ["model.sale.sale.search_read"]
    assert tryton_shop.server.sale_state(sale["id"]) == "cancelled"


def test_a_confirmed_sale_is_put_back_to_draft_and_cancelled_when_the_connection_allows_it(tryton_shop):
    tryton_shop.set_options(resetConfirmedToDraft=True)
    sale = tryton_shop.server.create_sale("confirmed")
    context = cancel(tryton_shop, tryton_shop.order_for(sale))
    assert tryton_shop.server.sale_state(sale["id"]) == "cancelled"
    assert context.data["methods"][-2:] == ["model.sale.sale.draft", "model.sale.sale.cancel"]


def test_a_confirmed_sale_is_refused_with_trytons_message_when_the_connection_does_not_allow_it(tryton_shop):
    sale = tryton_shop.server.create_sale("confirmed")
    with pytest.raises(ErpRejected) as exc:
        cancel(tryton_shop, tryton_shop.order_for(sale))
    assert exc.value.message == refusal(sale)
    assert exc.value.erp_reference == sale["number"]
    assert tryton_shop.server.sale_state(sale["id"]) == "confirmed"


def test_processing_and_done_sales_are_refused_with_trytons_message_and_left_as_they_are(tryton_shop):
    tryton_shop.set_options(resetConfirmedToDraft=True)  # never applies beyond confirmed
    for state in ("processing", "done"):
        sale = tryton_shop.server.create_sale(state)
        context = processor_context(tryton_shop.cancel_definition, order=tryton_shop.order_for(sale))
        with pytest.raises(ErpRejected) as exc:
            TrytonOrderCancel().execute(context)
        assert exc.value.message == refusal(sale)
        assert tryton_shop.server.sale_state(sale["id"]) == state
        assert (
            f"Tryton refused to cancel sale {sale['number']} [{sale['reference']}] ({state})"
            in (
                context.logger.messages("Warn")[0]  # type: ignore[attr-defined]
            )
        )


def test_sales_are_matched_by_reference_when_the_connection_says_so(tryton_shop):
    tryton_shop.set_options(matchField="reference")
    sale = tryton_shop.server.create_sale("quotation", reference="W-REF-1")
    order = tryton_shop.order_for(sale, erp_order_number="NOT-IN-TRYTON")
    cancel(tryton_shop, order)
    assert tryton_shop.server.sale_state(sale["id"]) == "cancelled"


def test_an_order_without_erp_number_is_matched_by_reference_and_a_job_without_order_by_its_parameter(tryton_shop):
    server = tryton_shop.server
    draft = server.create_sale("draft")  # Tryton numbers a sale when it is quoted
    context = cancel(tryton_shop, tryton_shop.order_for(draft))
    assert server.sale_state(draft["id"]) == "cancelled"
    assert "has no ERP order number yet: matching the sale by reference" in context.logger.messages("Info")[0]  # type: ignore[attr-defined]

    quotation = server.create_sale("quotation")
    cancel(tryton_shop, None, OrderNumber=quotation["number"])
    assert server.sale_state(quotation["id"]) == "cancelled"


def test_the_status_codes_option_renames_the_cancelled_status_reported_to_the_order(tryton_shop):
    tryton_shop.set_options(statusCodes={"cancelled": "CX"})
    sale = tryton_shop.server.create_sale("quotation")
    assert cancel(tryton_shop, tryton_shop.order_for(sale)).result.erp_status == "CX"


def test_an_order_whose_sale_is_not_in_tryton_fails_with_a_log_line_that_says_where_it_looked(tryton_shop):
    order = tryton_shop.order_for({"reference": "W-404", "number": "SO99999", "state": "quotation"})
    context = processor_context(tryton_shop.cancel_definition, order=order)
    with pytest.raises(TrytonSaleNotFound):
        TrytonOrderCancel().execute(context)
    (line,) = context.logger.messages("Error")  # type: ignore[attr-defined]
    assert line.startswith("No Tryton sale has number 'SO99999' in Tryton http://127.0.0.1:")
    assert f"database {tryton_shop.server.database}" in line
    assert "matchField option (number)" in line


def test_tryton_down_is_a_transient_error(tryton_shop):
    sale = tryton_shop.server.create_sale("quotation")
    order = tryton_shop.order_for(sale)
    tryton_shop.server.stop()
    context = processor_context(tryton_shop.cancel_definition, order=order)
    with pytest.raises(TransientError, match="Tryton is unavailable"):
        TrytonOrderCancel().execute(context)


def test_wrong_credentials_are_a_configuration_error_with_a_message_about_the_log_on(tryton_shop):
    tryton_shop.connection.set_password("not-the-password")
    tryton_shop.connection.save()
    clear_session_cache()
    context = processor_context(tryton_shop.cancel_definition, order=None, parameters={"OrderNumber": "SO1"})
    with pytest.raises(ConfigurationError, match="the ERP refused the log-on: check the connection's user and pass"):
        TrytonOrderCancel().execute(context)


def test_the_worker_shared_http_client_with_basic_auth_still_uses_one_tryton_session(tryton_shop):
    # The engine's HTTP client carries Basic auth for the connection's log-on; the Tryton client must send
    # its session instead, so that it logs in once per process, not on every call.
    server = tryton_shop.server
    first, second = server.create_sale("quotation"), server.create_sale("quotation")
    clear_session_cache()
    one = cancel(tryton_shop, tryton_shop.order_for(first))
    two = cancel(tryton_shop, tryton_shop.order_for(second))
    assert one.data["methods"].count("common.db.login") == 1
    assert "common.db.login" not in two.data["methods"]
    with httpx.Client(auth=httpx.BasicAuth(server.login, "wrong")) as http:
        client = tryton_shop.server.client(http_client=http)
        assert client.sales_read([first["id"]], ["state"])[0]["state"] == "cancelled"


def test_test_connection_logs_in_and_counts_the_sales(tryton_shop):
    tryton_shop.server.create_sale("quotation")
    sales = tryton_shop.server.admin.call("model.sale.sale.search_count", [])
    message = TRYTON.test(connection_info(tryton_shop.connection))  # type: ignore[misc]
    assert message.startswith(f"logged in to Tryton database {tryton_shop.server.database} as admin (user 1)")
    assert message.endswith(f"; {sales} sale(s) visible")
    tryton_shop.connection.set_password("wrong")
    with pytest.raises(RuntimeError, match="refused the log-on"):
        TRYTON.test(connection_info(tryton_shop.connection))  # type: ignore[misc]
