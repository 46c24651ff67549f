import io
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from countermand.demo import demo_load
from countermand.integration.models import IntegrationConnection, JobDefinition
from countermand.integration.services import job_enqueue
from countermand.orders.models import Order, OrderLine, OrderStatusMapping
from countermand.settings.services import setting_set
from countermand.websites.models import Website

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def test_check_on_an_empty_database_exits_1_and_names_every_missing_step():
    code, output = run("setup_check")
    assert code == 1
    for step in (
        "OrderCancelStatuses",
        "AllowCancellationRequest",
        "Allow Cancellation",
        "Cancellable Order Statuses",
        "ERP connection",
        "OrderCancel job definition",
    ):
        assert step in output
    assert output.count("[MISSING]") == 6
    assert "IMPORTANT" in output


def test_check_passes_after_demo():
    demo_load()
    code, output = run("setup_check")
    assert code == 0, output
    assert "[MISSING]" not in output


def test_check_flags_the_guides_important_case_loudly():
    demo_load()
    JobDefinition.objects.update(is_active=False)
    code, output = run("setup_check")
    assert code == 1
    assert "cancelled HERE ONLY and the ERP is never told" in output


def test_check_fails_on_an_incomplete_cancel_job():
    demo_load()
    JobDefinition.objects.get(name="OrderCancel").parameters.all().delete()
    code, output = run("setup_check")
    assert code == 1
    assert "no OrderNumber parameter" in output


def test_check_reports_a_job_definition_naming_an_unknown_processor():
    demo_load()
    JobDefinition.objects.filter(name="OrderCancel").update(integration_processor="AcmeErpCancel")
    code, output = run("setup_check")
    assert code == 1
    assert "'AcmeErpCancel' is not installed" in output


def test_check_warns_when_settings_and_mappings_disagree():
    demo_load()
    setting_set(name="OrderCancelStatuses", value=["Submitted", "Backordered"])
    OrderStatusMapping.objects.filter(erp_order_status="Open").update(allow_cancellation=False)
    code, output = run("setup_check")
    assert code == 0
    assert "[WARNING]" in output
    assert "Backordered" in output
    assert "Open" in output


def test_explain_lists_the_blockers_of_a_shipped_demo_order():
    demo_load()
    code, output = run("explain", "WEB-1004")
    assert code == 0
    assert "STATUS_NOT_CANCELLABLE" in output
    assert "MAPPING_DISALLOWS" in output
    assert "force-cancel" in output


def test_explain_says_a_cancellable_demo_order_can_be_cancelled_and_finds_it_by_erp_number():
    demo_load()
    code, output = run("explain", "ERP-5001")
    assert code == 0
    assert "It can be cancelled by its buyers." in output


def test_explain_lists_the_lines_and_their_blockers():
    demo_load()
    OrderLine.objects.filter(order__web_order_number="WEB-1009", line_number=3).update(quantity_shipped=6)
    code, output = run("explain", "WEB-1009")
    assert code == 0
    assert "line 2 BOLT-8: ordered 100, shipped 0, cancelled 0, cancellable 100" in output
    assert "its buyers can cancel part or all of it." in output
    assert "line 3 PIPE-20: ordered 6, shipped 6, cancelled 0, cancellable 0" in output
    assert "LINE_FULLY_SHIPPED: This line has already shipped in full." in output


def test_explain_says_partial_cancellation_is_off_for_buyers_where_the_website_does_not_offer_it():
    demo_load()
    _, output = run("explain", "WEB-1001")  # Demo Store offers it; turn it off
    assert "its buyers can cancel part or all of it." in output
    setting_set(name="AllowPartialCancellation", value=False, website=Website.objects.get(name="Demo Store"))
    code, output = run("explain", "WEB-1001")
    assert code == 0
    assert "PARTIAL_CANCELLATION_DISABLED" in output
    assert "an order administrator can cancel part or all of it." in output


def test_explain_of_an_unknown_order_is_a_clear_error():
    code, output = run("explain", "NOPE-1")
    assert code == 1
    assert "There is no order 'NOPE-1'" in output


def test_demo_is_idempotent():
    first = demo_load(orders=50)
    second = demo_load(orders=50)
    assert first["orders"] == 62  # 12 showcase orders and 50 generated ones
    assert second["orders"] == 0
    assert Order.objects.count() == 62


def test_demo_shows_progress_for_many_orders():
    err = io.StringIO()
    call_command("demo", orders=10000, stdout=io.StringIO(), stderr=err)
    assert "generated orders" in err.getvalue()
    assert "10000/10000" in err.getvalue()
    assert Order.objects.filter(web_order_number__startswith="GEN-").count() == 10000


def test_setting_set_command_validates_and_stores():
    code, output = run("setting_set", "CancellationWithoutErpJob", "Never")
    assert code == 1
    assert "one of LocalOnly, Refuse" in output
    code, output = run("setting_set", "OrderCancelStatuses", "Submitted", "Open")
    assert code == 0
    assert "Submitted" in output


def test_the_countermand_command_prints_usage_and_refuses_unknown_commands():
    ok = subprocess.run([sys.executable, "-m", "countermand", "--help"], capture_output=True, text=True)
    assert ok.returncode == 0
    assert "serve" in ok.stdout
    assert "explain" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "countermand", "frobnicate"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "unknown command 'frobnicate'" in bad.stderr


def test_check_warns_about_jobs_waiting_on_an_inactive_connection():
    demo_load()
    definition = JobDefinition.objects.get(name="OrderCancel")
    job_enqueue(definition=definition, parameters={"OrderNumber": "X-1"})  # as the cancellation service does
    code, output = run("setup_check")
    assert code == 0
    assert "inactive connection" not in output
    IntegrationConnection.objects.filter(pk=definition.connection_id).update(is_active=False)
    _, output = run("setup_check")
    assert "[WARNING] No queued job waits on an inactive connection" in output
    assert f"1 on {definition.connection.name}" in output


def test_run_job_refuses_the_order_cancel_definition_and_points_to_cancel_order():
    demo_load()
    code, output = run("run_job", "OrderCancel", "--param", "OrderNumber=WEB-1001")
    assert code == 1
    assert "Cancel Order" in output
    assert not JobDefinition.objects.get(name="OrderCancel").jobs.exists()
