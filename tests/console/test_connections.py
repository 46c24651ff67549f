"""Administration > Jobs > Connections: type from the registry, options validated by the type, a write-only
password, Test connection against a real HTTP server, breaker state read-only."""

from __future__ import annotations

import re
import socket

import pytest
from django.urls import reverse

from countermand.integration.models import IntegrationConnection
from countermand.integration.plugin import ConnectionType
from countermand.integration.registry import registry
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db

ADD = "admin:integration_integrationconnection_add"


def connection_data(**overrides):
    data = {
        "name": "ERP Connection",
        "type_name": "WebService",
        "url": "http://127.0.0.1:9/erp",
        "log_on": "erp-user",
        "password": "",
        "timeout_seconds": "5",
        "options": "{}",
        "is_active": "on",
        "max_concurrent_jobs": "4",
        "breaker_threshold": "5",
        "breaker_cooldown_seconds": "30",
    }
    data.update(overrides)
    return data


def change_url(connection) -> str:
    return reverse("admin:integration_integrationconnection_change", args=[connection.pk])


def test_type_is_chosen_from_the_connection_type_registry(admin_client):
    html = admin_client.get(reverse(ADD)).content.decode()
    for name in registry().connection_types:
        assert f'<option value="{name}"' in html


def test_create_a_connection_with_an_encrypted_password(admin_client):
    response = admin_client.post(reverse(ADD), connection_data(password="erp-secret"))
    assert response.status_code == 302
    connection = IntegrationConnection.objects.get()
    assert connection.password_encrypted
    assert connection.password_encrypted != "erp-secret"
    assert connection.get_password() == "erp-secret"


def test_password_is_never_displayed_nor_prefilled(admin_client):
    connection = ConnectionFactory()
    connection.set_password("erp-secret")
    connection.save()
    html = admin_client.get(change_url(connection)).content.decode()
    assert "erp-secret" not in html
    assert connection.password_encrypted not in html
    password_input = html[html.index('name="password"') - 80 :][:200]
    assert 'type="password"' in password_input
    assert "value=" not in password_input
    assert "Set (hidden)" in html


def test_blank_password_keeps_the_current_one_and_clear_removes_it(admin_client):
    connection = ConnectionFactory(name="ERP Connection")
    connection.set_password("erp-secret")
    connection.save()
    admin_client.post(change_url(connection), connection_data(url="http://127.0.0.1:9/v2"))
    connection.refresh_from_db()
    assert connection.url == "http://127.0.0.1:9/v2"
    assert connection.get_password() == "erp-secret"
    admin_client.post(change_url(connection), connection_data(clear_password="on"))
    connection.refresh_from_db()
    assert not connection.has_password


def test_options_are_validated_by_the_connection_type(admin_client):
    response = admin_client.post(reverse(ADD), connection_data(options='{"bogus": 1}'))
    assert response.status_code == 200
    assert "Unknown option(s) bogus for a WebService connection" in response.content.decode()
    response = admin_client.post(reverse(ADD), connection_data(options='{"cancelMethod": "GET"}'))
    assert "cancelMethod must be POST, PUT, PATCH or DELETE" in response.content.decode()
    assert not IntegrationConnection.objects.exists()


def test_options_must_be_json(admin_client):
    response = admin_client.post(reverse(ADD), connection_data(options="{not json"))
    assert response.status_code == 200
    assert not IntegrationConnection.objects.exists()


def test_an_unknown_type_cannot_be_chosen(admin_client):
    response = admin_client.post(reverse(ADD), connection_data(type_name="Carrier pigeon"))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_breaker_state_is_shown_read_only(admin_client):
    connection = ConnectionFactory(breaker_state="Open", breaker_failures=7)
    html = admin_client.get(change_url(connection)).content.decode()
    assert "Open</span>" in html
    assert 'name="breaker_state"' not in html
    assert 'name="breaker_failures"' not in html


def test_test_connection_says_ok_when_the_erp_answers(admin_client, erp_url):
    connection = ConnectionFactory(url=erp_url + "/ok")
    response = admin_client.post(
        reverse("admin:integration_integrationconnection_test", args=[connection.pk]), follow=True
    )
    html = response.content.decode()
    assert f"Test connection {connection.name}: OK" in html
    assert "HTTP 200" in html


def test_test_connection_sends_the_log_on_and_reports_a_refused_one(admin_client, erp_url):
    connection = ConnectionFactory(url=erp_url + "/secured", log_on="erp-user")
    connection.set_password("wrong")
    connection.save()
    url = reverse("admin:integration_integrationconnection_test", args=[connection.pk])
    assert "refused the log-on (HTTP 401)" in admin_client.post(url, follow=True).content.decode()
    connection.set_password("erp-secret")
    connection.save()
    assert ": OK" in admin_client.post(url, follow=True).content.decode()


def test_test_connection_reports_an_erp_error(admin_client, erp_url):
    connection = ConnectionFactory(url=erp_url + "/broken")
    html = admin_client.post(
        reverse("admin:integration_integrationconnection_test", args=[connection.pk]), follow=True
    ).content.decode()
    assert "failed" in html
    assert "HTTP 503" in html


def test_test_connection_reports_an_unreachable_erp(admin_client):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    connection = ConnectionFactory(url=f"http://127.0.0.1:{port}/")
    html = admin_client.post(
        reverse("admin:integration_integrationconnection_test", args=[connection.pk]), follow=True
    ).content.decode()
    assert "cannot reach" in html


def test_test_connection_waits_no_longer_than_the_timeout(admin_client, erp_url):
    connection = ConnectionFactory(url=erp_url + "/slow", timeout_seconds=1)
    html = admin_client.post(
        reverse("admin:integration_integrationconnection_test", args=[connection.pk]), follow=True
    ).content.decode()
    assert "no answer from" in html
    assert "within 1 s" in html


def test_a_connection_type_may_bring_its_own_test(admin_client):
    def pigeon_test(connection):
        return f"the pigeon found {connection.url}"

    registry().connection_types["Pigeon"] = ConnectionType(name="Pigeon", description="Birds.", test=pigeon_test)
    try:
        connection = ConnectionFactory(type_name="Pigeon", url="loft://roof")
        html = admin_client.post(
            reverse("admin:integration_integrationconnection_test", args=[connection.pk]), follow=True
        ).content.decode()
    finally:
        del registry().connection_types["Pigeon"]
    assert "OK — the pigeon found loft://roof" in html


def test_test_connection_is_also_an_action_on_the_list(admin_client, erp_url):
    first = ConnectionFactory(url=erp_url + "/ok")
    second = ConnectionFactory(url=erp_url + "/broken")
    response = admin_client.post(
        reverse("admin:integration_integrationconnection_changelist"),
        {"action": "test_connections", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )
    html = response.content.decode()
    assert f"{first.name}: OK" in html
    assert f"{second.name} failed" in html


def test_only_integration_admins_manage_connections(reader_client, order_client, integration_client, erp_url):
    connection = ConnectionFactory(url=erp_url + "/ok")
    test_url = reverse("admin:integration_integrationconnection_test", args=[connection.pk])
    assert reader_client.get(change_url(connection)).status_code == 200
    for client in (reader_client, order_client):
        assert client.post(reverse(ADD), connection_data()).status_code == 403
        assert client.post(test_url).status_code == 403
    assert integration_client.post(reverse(ADD), connection_data(name="Second")).status_code == 302
    assert integration_client.post(test_url).status_code == 302


def test_connection_changes_in_the_console_are_audited_without_the_password(admin_client, superuser):
    from countermand.settings.models import ConfigurationChange

    admin_client.post(reverse(ADD), connection_data(password="erp-secret"))
    connection = IntegrationConnection.objects.get()
    admin_client.post(change_url(connection), connection_data(clear_password="on"))
    delete = reverse("admin:integration_integrationconnection_delete", args=[connection.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    rows = list(ConfigurationChange.objects.filter(kind="Connection").order_by("id"))
    assert [(r.action, r.changed_by) for r in rows] == [
        ("Created", superuser),
        ("Updated", superuser),
        ("Deleted", superuser),
    ]
    assert rows[0].changes["password"] == [None, "(hidden)"]
    assert rows[1].changes == {"password": ["(hidden)", None]}
    assert "erp-secret" not in str([r.changes for r in rows])


def test_test_connection_redacts_credentials_the_erp_echoed(db, monkeypatch):
    from countermand.console import connection_test as module
    from tests.factories import ConnectionFactory

    connection = ConnectionFactory(name="Echo", log_on="erp-user")
    connection.set_password("erp-secret")
    connection.save()

    def echoing_probe(_connection):
        raise RuntimeError("HTTP 400: you sent Authorization: Basic ZXJwLXVzZXI6ZXJwLXNlY3JldA== password erp-secret")

    monkeypatch.setattr(module, "http_probe", echoing_probe)
    result = module.connection_test(connection)
    assert not result.ok
    assert "erp-secret" not in result.message
    assert "ZXJwLXVzZXI6ZXJwLXNlY3JldA" not in result.message
    assert "[redacted]" in result.message


# --- pairing connections with processors (from the plugins' declarations), testing before saving


def test_each_type_says_which_integration_processor_fits_it(admin_client):
    html = admin_client.get(reverse(ADD)).content.decode()
    pairs = dict(re.findall(r'data-pairs-with="([^"]+)">([^<]*)<', html))
    assert "WebServiceOrderCancel" in pairs["Sandbox"]
    assert "WebServiceOrderCancel" in pairs["WebService"]
    assert "TrytonOrderCancel" in pairs["Tryton"]
    assert "WebServiceOrderCancel" not in pairs["Tryton"]


def test_a_new_connection_starts_as_a_sandbox_with_the_sandbox_erps_own_address(admin_client):
    html = admin_client.get(reverse(ADD)).content.decode()
    assert '<option value="Sandbox" selected>' in html
    assert 'value="http://testserver/sandbox-erp"' in html
    assert "data-suggested-urls=" in html  # the script swaps it when the type changes
    assert 'data-connection-test="' in html  # Test connection, before saving


def test_a_type_named_in_the_link_starts_with_its_own_suggestion(admin_client):
    html = admin_client.get(reverse(ADD), {"type_name": "WebService"}).content.decode()
    assert '<option value="WebService" selected>' in html
    assert "http://testserver/sandbox-erp" not in html.split('name="url"')[1][:200]


def test_test_connection_before_saving_tries_the_typed_values_and_saves_nothing(admin_client, erp_url):
    url = reverse("admin:integration_integrationconnection_test_unsaved")
    answer = admin_client.post(url, connection_data(url=f"{erp_url}/ok")).json()
    assert answer["ok"] is True
    assert "OK" in answer["message"]
    refused = admin_client.post(
        url, connection_data(url=f"{erp_url}/secured", log_on="erp-user", password="wrong")
    ).json()
    assert refused["ok"] is False
    assert "refused the log-on" in refused["message"]
    assert "wrong" not in refused["message"]
    assert not IntegrationConnection.objects.exists()


def test_test_connection_before_saving_reports_what_the_form_lacks(admin_client):
    url = reverse("admin:integration_integrationconnection_test_unsaved")
    answer = admin_client.post(url, connection_data(url="not a url", name="")).json()
    assert answer["ok"] is False
    assert answer["message"].startswith("Correct the form first")


def test_only_integration_admins_may_test_before_saving(reader_client, order_client):
    url = reverse("admin:integration_integrationconnection_test_unsaved")
    for client in (reader_client, order_client):
        assert client.post(url, connection_data()).status_code == 403
