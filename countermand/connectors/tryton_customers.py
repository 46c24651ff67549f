"""The customer refresh's source for a `Tryton` connection: Tryton parties become our customers.

A party with a `code` is a customer whose customer number is that code — the code a sale's party has,
so the order history refresh finds the sales of the customers brought in here. Parties without a code
cannot be matched to orders and are left out. Inactive parties are read too (Tryton hides them unless
the context says `active_test: false`) and come in as inactive customers; a party that no longer exists
is no longer listed, and the refresh deactivates its customer. Addresses: the party's active ones, in
Tryton's order (street on one line, postal code, city, country code).

Read only: two `search_read`/`read` calls per batch of parties, through `tryton_rpc.TrytonClient`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from countermand.connectors.tryton import tryton_client, tryton_errors
from countermand.integration.plugin import ConnectionInfo, ErpAddress, ErpCustomer, JobLogger

PARTY_FIELDS = ("id", "code", "name", "active", "addresses")
ADDRESS_FIELDS = ("id", "active", "street_single_line", "postal_code", "city", "country.code")
# Inactive parties (and addresses) too: a party deactivated in Tryton must deactivate its customer here.
ALL_RECORDS = {"active_test": False}


class TrytonCustomerSource:
    """Reads Tryton parties for the customer refresh (see `plugin.CustomerSource`)."""

    def __init__(self, connection: ConnectionInfo, *, logger: JobLogger) -> None:
        self.connection = connection
        self.client = tryton_client(connection)
        self.label = f"Tryton {connection.url} database {connection.options['database']}"
        self.logger = logger

    def customers(self, *, batch_size: int) -> Iterator[list[ErpCustomer]]:
        offset = 0
        with tryton_errors(self.connection):
            while True:
                parties = self.client.call(
                    "model.party.party.search_read",
                    [("code", "!=", None)],
                    offset,
                    batch_size,
                    [["id", "ASC"]],
                    list(PARTY_FIELDS),
                    context=ALL_RECORDS,
                )
                if not parties:
                    return
                address_ids = [address_id for party in parties for address_id in party["addresses"]]
                addresses = {
                    row["id"]: row
                    for row in (
                        self.client.call(
                            "model.party.address.read", address_ids, list(ADDRESS_FIELDS), context=ALL_RECORDS
                        )
                        if address_ids
                        else []
                    )
                }
                yield [_customer(party, addresses) for party in parties]
                if len(parties) < batch_size:
                    return
                offset += len(parties)


def _customer(party: dict[str, Any], addresses: dict[int, dict[str, Any]]) -> ErpCustomer:
    rows = [addresses[i] for i in party["addresses"] if i in addresses and addresses[i].get("active", True)]
    return ErpCustomer(
        customer_number=str(party["code"]).strip(),
        name=str(party.get("name") or party["code"]).strip(),
        is_active=bool(party.get("active", True)),
        addresses=tuple(
            ErpAddress(
                street=str(row.get("street_single_line") or "").strip(),
                postal_code=str(row.get("postal_code") or "").strip(),
                city=str(row.get("city") or "").strip(),
                country=str((row.get("country.") or {}).get("code") or ""),
            )
            for row in rows
        ),
    )


def tryton_customer_source(connection: ConnectionInfo, logger: JobLogger) -> TrytonCustomerSource:
    """`ConnectionType.customer_source` of the Tryton type."""
    return TrytonCustomerSource(connection, logger=logger)
