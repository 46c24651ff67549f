"""Sales > Import orders: JSON or CSV, the admin API's rules, a preview, errors per row, all or nothing;
and Load sample data on an empty installation."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from countermand.customers.models import Customer
from countermand.integration.models import JobDefinition
from countermand.orders.models import Order, OrderEvent
from tests.factories import CustomerFactory, OrderFactory, WebsiteFactory

URL = "/admin/sales/import-orders/"


@pytest.fixture
def store(db):
    website = WebsiteFactory(name="Store")
    CustomerFactory(customer_number="C1000")
    return website


def order_json(store, number="WEB-1", **extra):
    return {
        "webOrderNumber": number,
        "websiteId": store.pk,
        "customerNumber": "C1000",
        "orderDate": "2026-12-01",
        "status": "Submitted",
        "orderLines": [{"lineNumber": 1, "productErpNumber": "WID-100", "qtyOrdered": 2, "unitNetPrice": "12.50"}],
        **extra,
    }


def upload(client, name: str, content: str):
    return client.post(URL, {"_preview": "1", "file": SimpleUploadedFile(name, content.encode())})


@pytest.mark.django_db
def test_a_json_upload_is_previewed_without_saving_then_imported_with_its_lines(admin_client, store):
    content = json.dumps([order_json(store, "WEB-1"), order_json(store, "WEB-2", erpOrderNumber="ERP-2")])

    preview = upload(admin_client, "orders.json", content)

    html = preview.content.decode()
    assert "2 orders ready to import" in html
    assert 'id="import-submit"' in html
    assert "<td>Store</td>" in html  # the website's name, not its id
    assert Order.objects.count() == 0

    done = admin_client.post(URL, {"_import": "1", "content": content, "filename": "orders.json"})

    assert done.status_code == 302
    assert done["Location"] == reverse("admin:orders_order_changelist")
    order = Order.objects.get(web_order_number="WEB-2")
    assert order.erp_order_number == "ERP-2"
    assert order.lines.get().product_number == "WID-100"
    assert OrderEvent.objects.filter(type=OrderEvent.Type.IMPORTED).count() == 2


@pytest.mark.django_db
def test_a_csv_upload_makes_one_order_of_the_rows_that_share_a_number(admin_client, store):
    content = (
        "webOrderNumber,websiteId,customerNumber,orderDate,status,lineNumber,productErpNumber,qtyOrdered,lineStatus\n"
        f"WEB-7,{store.pk},C1000,2026-12-02,Open,1,WID-100,3,Open\n"
        f"WEB-7,{store.pk},C1000,2026-12-02,Open,2,BOLT-8,100,\n"
        f"WEB-8,{store.pk},C1000,2026-12-03,Submitted,,,,\n"
    )
    html = upload(admin_client, "orders.csv", content).content.decode()
    assert "2 orders ready to import" in html
    assert "Rows 2, 3" in html

    admin_client.post(URL, {"_import": "1", "content": content, "filename": "orders.csv"})

    seven = Order.objects.get(web_order_number="WEB-7")
    assert [(line.line_number, line.product_number, line.status) for line in seven.lines.all()] == [
        (1, "WID-100", "Open"),
        (2, "BOLT-8", ""),
    ]
    assert Order.objects.get(web_order_number="WEB-8").lines.count() == 0


@pytest.mark.django_db
def test_errors_are_shown_per_row_with_the_admin_apis_messages_and_nothing_is_saved(admin_client, store):
    OrderFactory(web_order_number="WEB-TAKEN", website=store)
    content = json.dumps(
        [
            order_json(store, "WEB-GOOD"),
            order_json(store, "WEB-BAD-DATE", orderDate="yesterday"),
            order_json(store, "WEB-NOBODY", customerNumber="C9999"),
            order_json(store, "WEB-TAKEN"),
        ]
    )

    html = upload(admin_client, "orders.json", content).content.decode()

    assert "3 of 4 orders with errors" in html
    assert "Nothing will be imported while an order has an error." in html
    assert "orderDate: Date has wrong format." in html
    assert "customerNumber: There is no customer C9999." in html
    assert "Order WEB-TAKEN (or its ERP number) already exists; update it instead." in html
    assert 'id="import-submit"' not in html
    assert not Order.objects.filter(web_order_number="WEB-GOOD").exists()


@pytest.mark.django_db
def test_an_import_that_meets_an_error_after_its_preview_saves_nothing(admin_client, store):
    content = json.dumps([order_json(store, "WEB-1"), order_json(store, "WEB-2")])
    assert "2 orders ready to import" in upload(admin_client, "orders.json", content).content.decode()
    OrderFactory(web_order_number="WEB-2", website=store)  # imported meanwhile by someone else

    response = admin_client.post(URL, {"_import": "1", "content": content, "filename": "orders.json"})

    assert response.status_code == 200
    assert "Nothing was imported while an order has an error." in response.content.decode()
    assert not Order.objects.filter(web_order_number="WEB-1").exists()


@pytest.mark.django_db
def test_the_same_number_twice_in_one_file_is_an_error_of_the_second(admin_client, store):
    content = json.dumps([order_json(store, "WEB-1"), order_json(store, "WEB-1")])
    html = upload(admin_client, "orders.json", content).content.decode()
    assert "1 of 2 orders with errors" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("orders.json", "[{", "The file is not valid JSON"),
        ("orders.csv", "number,website\nWEB-1,1\n", "The CSV&#x27;s first row must name its columns"),
        ("orders.csv", "webOrderNumber,colour\nWEB-1,red\n", "Unknown column(s): colour."),
        ("orders.json", "[]", "The file holds no order."),
    ],
)
def test_a_file_that_is_not_orders_says_why(admin_client, store, name, content, message):
    html = upload(admin_client, name, content).content.decode()
    assert message in html
    assert 'id="upload-error"' in html


@pytest.mark.django_db
def test_import_needs_the_permission_to_add_orders_which_the_integration_admin_has(
    reader_client, order_client, integration_client
):
    assert reader_client.get(URL).status_code == 403
    assert order_client.get(URL).status_code == 403
    assert integration_client.get(URL).status_code == 200


@pytest.mark.django_db
def test_import_orders_is_in_the_sales_section(integration_client):
    html = integration_client.get(reverse("admin:console_section", kwargs={"key": "sales"})).content.decode()
    assert URL in html


@pytest.mark.django_db
def test_an_empty_installation_offers_sample_data_that_loads_the_demo_without_an_admin_account(admin_client):
    assert 'id="load-sample-data"' in admin_client.get(URL).content.decode()
    assert 'id="load-sample-data"' in admin_client.get(reverse("admin:index")).content.decode()

    response = admin_client.post(reverse("admin:console_sample_data_load"))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:console_setup")
    assert (
        Order.objects.filter(website__name="Demo Store").count() == 12
    )  # the demo's showcase orders of the Demo Store
    assert Customer.objects.filter(customer_number="C1000").exists()
    assert JobDefinition.objects.get(name="OrderCancel").connection.url == "http://testserver/sandbox-erp"
    assert not get_user_model().objects.filter(username="admin").exists()  # its user (root) is the superuser
    assert 'id="load-sample-data"' not in admin_client.get(URL).content.decode()
    assert 'id="load-sample-data"' not in admin_client.get(reverse("admin:index")).content.decode()


@pytest.mark.django_db
def test_sample_data_is_refused_once_there_are_orders_and_offered_only_to_superusers(admin_client, integration_client):
    assert 'id="load-sample-data"' not in integration_client.get(URL).content.decode()
    assert integration_client.post(reverse("admin:console_sample_data_load")).status_code == 403
    OrderFactory()
    admin_client.post(reverse("admin:console_sample_data_load"))
    assert not Order.objects.filter(web_order_number="WEB-1001").exists()
