"""Customer refresh from an ERP with an HTTP JSON API (`WebService` connection).

The ERP lists its bill-to accounts at the connection's URL + `customerRefreshPath` (default `/customers`):

- `GET /customers?page=1&pageSize=100` — every customer, inactive ones included, ordered by customer
  number (any stable order), a page at a time; a page shorter than `pageSize` is the last one.

It answers `{"customers": [customer, …]}` (or a bare list), a customer in the field names of our REST API:

    {"customerNumber": "C1000", "name": "Acme Corp", "isActive": true,
     "addresses": [{"street": "1 Main St", "postalCode": "12345", "city": "Springfield", "country": "US"}]}

`customerNumber` and `name` are required; `isActive` defaults to true, `addresses` to none. A customer the
ERP no longer lists is deactivated here (never deleted: its orders stay).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from countermand.connectors.webservice_refresh import erp_list_get
from countermand.integration.plugin import ConnectionInfo, ErpAddress, ErpCustomer, JobLogger

DEFAULT_CUSTOMER_REFRESH_PATH = "/customers"
ADDRESS_FIELDS = {"street": "street", "postalCode": "postal_code", "city": "city", "country": "country"}


def webservice_customer_source(connection: ConnectionInfo, logger: JobLogger) -> WebServiceCustomerSource:
    """`ConnectionType.customer_source` of the WebService type."""
    return WebServiceCustomerSource(connection, logger=logger)


class WebServiceCustomerSource:
    """Reads customers from an HTTP JSON ERP for the customer refresh (see `plugin.CustomerSource`)."""

    def __init__(self, connection: ConnectionInfo, *, logger: JobLogger) -> None:
        if connection.http is None:
            raise RuntimeError(f"The connection {connection.name} has no HTTP client.")
        self.http = connection.http
        self.timeout = float(connection.timeout_seconds)
        path = str(connection.options.get("customerRefreshPath", DEFAULT_CUSTOMER_REFRESH_PATH))
        self.url = connection.url.rstrip("/") + "/" + path.lstrip("/")
        self.headers = dict(connection.options.get("headers", {}))
        self.label = f"the ERP at {self.url}"
        self.logger = logger

    def customers(self, *, batch_size: int) -> Iterator[list[ErpCustomer]]:
        page = 1
        while True:
            rows = self._get({"page": page, "pageSize": batch_size})
            if rows:
                yield self._customers(rows)
            if len(rows) < batch_size:
                return
            page += 1

    def _get(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return erp_list_get(self, params, key="customers", path_option="customerRefreshPath")

    def _customers(self, rows: list[dict[str, Any]]) -> list[ErpCustomer]:
        customers = []
        for data in rows:
            try:
                customers.append(_customer(data))
            except (KeyError, TypeError, ValueError) as exc:
                # One bad record must not stop the others; it is named in the job's log.
                self.logger.warn(f"Skipped a customer {self.label} sent: {exc} in {str(data)[:300]}")
        return customers


def _customer(data: dict[str, Any]) -> ErpCustomer:
    missing = [k for k in ("customerNumber", "name") if not str(data.get(k) or "").strip()]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    active = data.get("isActive", True)
    if not isinstance(active, bool):
        raise ValueError(f"isActive must be true or false, not {active!r}")
    addresses = data.get("addresses") or []
    if not isinstance(addresses, list) or not all(isinstance(a, dict) for a in addresses):
        raise ValueError("addresses must be a list of objects")
    return ErpCustomer(
        customer_number=str(data["customerNumber"]).strip(),
        name=str(data["name"]).strip(),
        is_active=active,
        addresses=tuple(
            ErpAddress(**{ours: str(a.get(theirs) or "").strip() for theirs, ours in ADDRESS_FIELDS.items()})
            for a in addresses
        ),
    )
