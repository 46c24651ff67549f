"""The Tryton JSON-RPC client against a real trytond 8.2 server."""

from __future__ import annotations

import dataclasses
import datetime
import json
import socket
import threading
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from countermand.connectors.tryton_rpc import (
    TrytonAuthError,
    TrytonClient,
    TrytonError,
    TrytonLookupError,
    TrytonUnavailable,
    TrytonUserError,
    clear_session_cache,
    decode_json,
    encode_json,
)
from countermand.devtools.tryton_server import SERVICE_CODE, TrytonServer, free_port

pytestmark = pytest.mark.tryton


def _refused(message: str, number: str, reference: str, button: str = "cancel") -> bool:
    return message == f'You can not call "{button}" on "{number} [{reference}]" of "Sale".'


class MethodLog:
    """Records the JSON-RPC methods sent through an httpx client."""

    def __init__(self) -> None:
        self.methods: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> None:
        method = json.loads(request.content)["method"]
        with self.lock:
            self.methods.append(method)

    def count(self, method: str) -> int:
        return self.methods.count(method)


@pytest.fixture
def method_log() -> MethodLog:
    return MethodLog()


@pytest.fixture
def http(method_log: MethodLog) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0, event_hooks={"request": [method_log]}) as client:
        yield client


# -- without a server ---------------------------------------------------------


def test_json_round_trip_of_tryton_values() -> None:
    values = {
        "amount": Decimal("10.50"),
        "day": datetime.date(2025, 1, 31),
        "at": datetime.datetime(2025, 1, 31, 12, 30, 5, 7),  # noqa: DTZ001 (Tryton's datetimes are naive)
        "time": datetime.time(8, 15, 0, 3),
        "delay": datetime.timedelta(hours=2),
        "blob": b"\x00\x01binary",
        "plain": [1, "a", None, {"nested": Decimal("0.1")}],
    }
    text = encode_json(values)
    assert '{"__class__":"Decimal","decimal":"10.50"}' in text
    assert '{"__class__":"date","year":2025,"month":1,"day":31}' in text
    assert decode_json(text) == values
    assert decode_json('{"__class__": "Other", "x": 1}') == {"__class__": "Other", "x": 1}


def test_connection_refused_is_unavailable() -> None:
    client = TrytonClient(f"http://127.0.0.1:{free_port()}", "db", "admin", "pw", timeout=2)
    with client, pytest.raises(TrytonUnavailable):
        client.call("model.sale.sale.search", [], 0, None, None)


def test_timeout_is_unavailable() -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        client = TrytonClient(f"http://127.0.0.1:{port}", "db", "admin", "pw", timeout=0.3)
        with client, pytest.raises(TrytonUnavailable, match="in time"):
            client.login()


def test_http_5xx_is_unavailable() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503, text="maintenance"))
    with httpx.Client(transport=transport) as http:
        client = TrytonClient("http://tryton.invalid", "db", "admin", "pw", http_client=http)
        with pytest.raises(TrytonUnavailable) as info:
            client.login()
    assert info.value.status_code == 503


# -- log-on and sessions --------------------------------------------------------


def test_login_and_session_reuse(tryton_server: TrytonServer, http: httpx.Client, method_log: MethodLog) -> None:
    s = tryton_server
    client = TrytonClient(s.url, s.database, s.login, s.password, http_client=http)
    assert client.user_id is None
    for _ in range(3):
        assert isinstance(client.call("model.sale.sale.search", [], 0, None, None), list)
    assert client.user_id == 1
    assert method_log.count("common.db.login") == 1

    # A second client of the same connection in this process shares the session.
    other = TrytonClient(s.url, s.database, s.login, s.password, http_client=http)
    other.call("model.sale.sale.search", [], 0, None, None)
    assert method_log.count("common.db.login") == 1

    # ... but only if it knows the password.
    intruder = TrytonClient(s.url, s.database, s.login, "not-the-password", http_client=http)
    with pytest.raises(TrytonAuthError):
        intruder.call("model.sale.sale.search", [], 0, None, None)


def test_wrong_password_is_an_auth_error(tryton_server: TrytonServer) -> None:
    bad = TrytonClient(tryton_server.url, tryton_server.database, tryton_server.login, "wrong")
    with bad, pytest.raises(TrytonAuthError) as info:
        bad.login()
    assert info.value.status_code == 401
    assert "wrong" not in str(info.value)


def test_unknown_database_is_an_error(tryton_server: TrytonServer) -> None:
    with TrytonClient(tryton_server.url, "no_such_db", "admin", "pw") as client, pytest.raises(TrytonError) as info:
        client.login()
    assert info.value.status_code == 404
    assert not isinstance(info.value, TrytonUnavailable | TrytonAuthError)


def test_login_happens_once_across_threads(
    tryton_server: TrytonServer, http: httpx.Client, method_log: MethodLog
) -> None:
    s = tryton_server
    clear_session_cache()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            TrytonClient(s.url, s.database, s.login, s.password, http_client=http).call(
                "model.sale.sale.search", [], 0, None, None
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert method_log.count("common.db.login") == 1


def test_logged_out_session_is_renewed(tryton_server: TrytonServer, http: httpx.Client, method_log: MethodLog) -> None:
    s = tryton_server
    client = TrytonClient(s.url, s.database, s.login, s.password, http_client=http)
    client.call("model.sale.sale.search", [], 0, None, None)
    # Another client of the process ends the shared session on the server.
    TrytonClient(s.url, s.database, s.login, s.password, http_client=http).logout()
    assert client.call("model.sale.sale.search", [], 0, None, None) == []
    assert method_log.count("common.db.login") == 2
    assert method_log.count("common.db.logout") == 1


def test_invalid_session_gets_401_and_is_renewed(
    tryton_server: TrytonServer, http: httpx.Client, method_log: MethodLog
) -> None:
    s = tryton_server
    client = TrytonClient(s.url, s.database, s.login, s.password, http_client=http)
    client.login()
    assert client._session is not None
    good = client._session
    client._session = dataclasses.replace(good, token="0" * 64)  # tampered
    responses: list[int] = []
    http.event_hooks["response"] = [lambda response: responses.append(response.status_code)]

    # The process cache still holds a valid session: it is used, no new log-on.
    assert client.call("model.sale.sale.search", [], 0, None, None) == []
    assert responses == [401, 200]
    assert method_log.count("common.db.login") == 1

    # No valid session anywhere: log in again and retry once.
    client._session = dataclasses.replace(good, token="1" * 64)
    clear_session_cache()
    responses.clear()
    assert client.call("model.sale.sale.search", [], 0, None, None) == []
    assert responses == [401, 200, 200]  # refused, log-on, retried call
    assert method_log.count("common.db.login") == 2


def test_session_survives_a_server_restart(
    tryton_server: TrytonServer, http: httpx.Client, method_log: MethodLog
) -> None:
    """Tryton keeps sessions in its database: a restart does not log clients out."""
    s = tryton_server
    client = TrytonClient(s.url, s.database, s.login, s.password, http_client=http)
    client.call("model.sale.sale.search", [], 0, None, None)
    s.stop()
    with pytest.raises(TrytonUnavailable):
        client.call("model.sale.sale.search", [], 0, None, None)
    s.start()
    assert client.call("model.sale.sale.search", [], 0, None, None) == []
    assert method_log.count("common.db.login") == 1


def test_server_stopped_mid_run_is_unavailable_then_recovers(tryton_server: TrytonServer) -> None:
    first = tryton_server.create_sale("quotation")
    second = tryton_server.create_sale("quotation")
    client = tryton_server.client()
    client.sale_cancel(first["id"])

    tryton_server.stop()
    with pytest.raises(TrytonUnavailable) as info:
        client.sale_cancel(second["id"])
    assert info.value.method == "model.sale.sale.cancel"

    tryton_server.start()
    client.sale_cancel(second["id"])
    assert tryton_server.sale_state(first["id"]) == "cancelled"
    assert tryton_server.sale_state(second["id"]) == "cancelled"


# -- values ---------------------------------------------------------------------


def test_decimal_date_and_datetime_decoding(tryton_server: TrytonServer) -> None:
    sale = tryton_server.create_sale("confirmed", lines=[{"product": "WIDGET", "quantity": 3, "unit_price": "12.5"}])
    client = tryton_server.client()
    (read,) = client.sales_read([sale["id"]], ["total_amount", "sale_date", "create_date"])
    assert read["total_amount"] == Decimal("37.50")
    assert isinstance(read["total_amount"], Decimal)
    assert type(read["sale_date"]) is datetime.date
    assert isinstance(read["create_date"], datetime.datetime)

    # ... and the same types are encoded in domains.
    by_date = client.sales_search([("sale_date", "=", read["sale_date"])], ["id"])
    assert [s["id"] for s in by_date] == [sale["id"]]
    lines = client.call(
        "model.sale.line.search_read", [("unit_price", "=", Decimal("12.5"))], 0, None, None, ["sale", "unit_price"]
    )
    assert [(line["sale"], line["unit_price"]) for line in lines] == [(sale["id"], Decimal("12.5000"))]


# -- finding sales ----------------------------------------------------------------


def test_sale_find_by_number_and_by_reference(tryton_server: TrytonServer) -> None:
    sale = tryton_server.create_sale("quotation", reference="WEB-1001")
    tryton_server.create_sale("quotation", reference="WEB-1002")
    client = tryton_server.client()

    by_number = client.sale_find("number", sale["number"])
    by_reference = client.sale_find("reference", "WEB-1001")
    assert by_number == by_reference
    assert by_number is not None
    assert by_number["id"] == sale["id"]
    assert by_number["number"].startswith("SO")
    assert by_number["reference"] == "WEB-1001"
    assert by_number["state"] == "quotation"
    assert by_number["party"] == tryton_server.data["customer"]["id"]
    assert by_number["total_amount"] == Decimal("20.00")
    assert len(by_number["lines"]) == 1
    assert by_number["sale_date"] is None  # set at confirmation

    assert client.sale_find("number", "SO99999") is None
    assert client.sale_find("reference", "WEB-404") is None
    with pytest.raises(ValueError, match=r"matched by 'number' or 'reference', not 'party'"):
        client.sale_find("party", "C1000")  # type: ignore[arg-type]


def test_sale_find_refuses_an_ambiguous_reference(tryton_server: TrytonServer) -> None:
    tryton_server.create_sale("quotation", reference="WEB-DUP")
    tryton_server.create_sale("draft", reference="WEB-DUP")
    with pytest.raises(TrytonLookupError):
        tryton_server.client().sale_find("reference", "WEB-DUP")


def test_sales_search_and_read(tryton_server: TrytonServer) -> None:
    made = [tryton_server.create_sale(state) for state in ("draft", "quotation", "cancelled")]
    client = tryton_server.client()
    found = client.sales_search([("state", "in", ["quotation", "cancelled"])], ["id", "state"], 0, 10, [("id", "DESC")])
    assert [s["id"] for s in found] == [made[2]["id"], made[1]["id"]]
    assert client.sales_search([], ["id"], 1, 1, [("id", "ASC")]) == [{"id": made[1]["id"]}]
    assert [s["reference"] for s in client.sales_read([made[0]["id"]], ["reference"])] == [made[0]["reference"]]
    with pytest.raises(TrytonUserError, match="don't exist"):
        client.sales_read([99999], ["state"])


# -- cancelling -----------------------------------------------------------------


@pytest.mark.parametrize("state", ["draft", "quotation"])
def test_cancel_from_draft_or_quotation(tryton_server: TrytonServer, state: str) -> None:
    sale = tryton_server.create_sale(state)
    tryton_server.client().sale_cancel(sale["id"])
    assert tryton_server.sale_state(sale["id"]) == "cancelled"


def test_confirmed_sale_is_cancelled_after_draft(tryton_server: TrytonServer) -> None:
    sale = tryton_server.create_sale("confirmed", reference="WEB-C1")
    client = tryton_server.client()
    with pytest.raises(TrytonUserError) as info:
        client.sale_cancel(sale["id"])
    assert _refused(info.value.message, sale["number"], "WEB-C1")
    client.sale_draft(sale["id"])
    assert tryton_server.sale_state(sale["id"]) == "draft"
    client.sale_cancel(sale["id"])
    assert tryton_server.sale_state(sale["id"]) == "cancelled"


@pytest.mark.parametrize("state", ["processing", "done"])
def test_cancel_refused_once_processing(tryton_server: TrytonServer, state: str) -> None:
    sale = tryton_server.create_sale(state, reference=f"WEB-{state}")
    client = tryton_server.client()
    with pytest.raises(TrytonUserError) as info:
        client.sale_cancel(sale["id"])
    assert _refused(info.value.message, sale["number"], f"WEB-{state}")
    assert info.value.description == ""
    assert info.value.status_code == 200
    with pytest.raises(TrytonUserError) as info:
        client.sale_draft(sale["id"])
    assert _refused(info.value.message, sale["number"], f"WEB-{state}", button="draft")
    assert tryton_server.sale_state(sale["id"]) == state


def test_cancelling_a_cancelled_sale_is_refused(tryton_server: TrytonServer) -> None:
    """Same message as for a processing sale: check the state before cancelling."""
    sale = tryton_server.create_sale("cancelled", reference="WEB-X")
    client = tryton_server.client()
    with pytest.raises(TrytonUserError) as info:
        client.sale_cancel(sale["id"])
    assert _refused(info.value.message, sale["number"], "WEB-X")
    found = client.sale_find("reference", "WEB-X")
    assert found is not None
    assert found["state"] == "cancelled"


def test_service_sale_reaches_done(tryton_server: TrytonServer) -> None:
    sale = tryton_server.create_sale("done", lines=[{"product": SERVICE_CODE, "quantity": 1}])
    assert tryton_server.sale(sale["id"], ["state", "invoice_state", "shipment_state"]) == {
        "id": sale["id"],
        "state": "done",
        "invoice_state": "paid",
        "shipment_state": "none",
    }


def test_unexpected_server_errors_are_not_user_errors(tryton_server: TrytonServer) -> None:
    client = tryton_server.client()
    with pytest.raises(TrytonError) as info:
        client.call("model.no.such.model.search", [], 0, None, None)
    assert type(info.value) is TrytonError
    with pytest.raises(TrytonError) as info:
        client.call("model.sale.sale.no_such_method", [])
    assert info.value.status_code == 403
