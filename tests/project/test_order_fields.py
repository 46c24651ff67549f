"""One table of order field names (plugin.ORDER_JSON_FIELDS): the admin import API, the WebService refresh,
docs/api.md's field table and the docs' examples all use it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from countermand.api.admin_serializers import OrderImportSerializer, OrderLineInputSerializer, OrderUpdateSerializer
from countermand.connectors import webservice_refresh
from countermand.integration.plugin import ORDER_JSON_FIELDS, ORDER_LINE_JSON_FIELDS

ROOT = Path(__file__).resolve().parents[2]
IMPORT_ONLY = {"websiteId"}
REFRESH_ONLY = {"cancelled"}


def sources(serializer) -> dict[str, str]:
    return {name: field.source for name, field in serializer.fields.items()}


def test_the_import_api_takes_exactly_the_tables_names_for_the_tables_fields():
    order = sources(OrderImportSerializer())
    line = sources(OrderLineInputSerializer())

    assert set(order) == set(ORDER_JSON_FIELDS) | IMPORT_ONLY
    assert {n: s for n, s in order.items() if s != n} == {
        n: s for n, s in ORDER_JSON_FIELDS.items() if s != n and n not in ("webOrderNumber", "customerNumber")
    }
    assert line == ORDER_LINE_JSON_FIELDS
    assert set(OrderUpdateSerializer().fields) <= set(ORDER_JSON_FIELDS)


def test_the_webservice_refresh_reads_the_tables_names():
    assert set(webservice_refresh.ORDER_FIELDS) | set(webservice_refresh.KEY_FIELDS) == set(ORDER_JSON_FIELDS)
    assert webservice_refresh.LINE_FIELDS == ORDER_LINE_JSON_FIELDS


def documented_names() -> set[str]:
    text = (ROOT / "docs" / "api.md").read_text()
    section = text.split("## Order fields", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE))


def test_the_docs_field_table_lists_the_tables_names():
    expected = (
        set(ORDER_JSON_FIELDS) | IMPORT_ONLY | REFRESH_ONLY | {f"orderLines[].{n}" for n in ORDER_LINE_JSON_FIELDS}
    )
    assert documented_names() == expected


def example_orders() -> list[dict]:
    """The order examples of docs/api.md (JSON blocks) and of the WebService refresh's docstring."""
    found = [
        json.loads(block) for block in re.findall(r"```json\n(.*?)```", (ROOT / "docs" / "api.md").read_text(), re.S)
    ]
    doc = webservice_refresh.__doc__ or ""
    found.append(json.loads(re.search(r"\n    (\{\"webOrderNumber\".*?\]\})\n", doc, re.S).group(1)))
    return found


def test_the_examples_use_only_the_tables_names():
    names = set(ORDER_JSON_FIELDS) | IMPORT_ONLY | REFRESH_ONLY
    examples = example_orders()
    assert len(examples) >= 2
    for order in examples:
        assert set(order) <= names
        for line in order.get("orderLines", []):
            assert set(line) <= set(ORDER_LINE_JSON_FIELDS)
