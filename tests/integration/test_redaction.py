"""ERP answers that echo the request's credentials reach no job log, job error, job result or cancellation:
the connection's password, its base64, base64(logOn:password) and any Authorization value are redacted."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from countermand.cancellations.models import CancellationRequest
from countermand.integration.joblog import JobLogBuffer
from countermand.integration.models import IntegrationJob, JobDefinition
from countermand.integration.plugin import REDACTED, Redactor
from countermand.integration.testing import FakeRequest
from tests.integration.conftest import cancel, drain
from tests.integration.fake_erp import FakeErp

LOG_ON, PASSWORD = "erp-user", "S3cret!pw/x"
BASIC = base64.b64encode(f"{LOG_ON}:{PASSWORD}".encode()).decode()
SECRETS = (PASSWORD, BASIC, base64.b64encode(PASSWORD.encode()).decode(), "S3cret%21pw%2Fx")


class EchoingErp(FakeErp):
    """An ERP (or a proxy in front of it) whose error pages echo the request, credentials included."""

    echo_status = 409

    def handle(self, request: FakeRequest) -> tuple[int, Any]:
        echo = "\n".join(f"{name}: {value}" for name, value in request.headers.items())
        message = f"Refused. You sent:\n{echo}\nparsed password={PASSWORD} ({base64.b64encode(PASSWORD.encode())!r})"
        return self.echo_status, {"message": message, "request": {"headers": dict(request.headers)}}


@pytest.fixture
def echoing_erp():
    erp = EchoingErp().start()
    yield erp
    erp.stop()


@pytest.fixture
def echo_shop(shop, echoing_erp):
    definition = JobDefinition.objects.get(name="OrderCancel")
    connection = definition.connection
    connection.url, connection.log_on, connection.timeout_seconds = echoing_erp.url, LOG_ON, 5
    connection.set_password(PASSWORD)
    connection.save()
    definition.retry_backoff_seconds, definition.max_retries, definition.debugging_enabled = 0, 0, True
    definition.save()
    return shop


def everything_written(job: IntegrationJob) -> str:
    request = CancellationRequest.objects.filter(job_id=job.pk).first()
    return "\n".join(
        [
            job.error,
            json.dumps(job.result),
            *job.logs.values_list("message", flat=True),
            request.erp_message if request else "",
        ]
    )


def assert_no_secret(text: str) -> None:
    leaked = [secret for secret in SECRETS if secret in text]
    assert leaked == [], text


def test_a_refusal_that_echoes_the_authorization_header_is_redacted_everywhere(echo_shop, echoing_erp):
    request = cancel(echo_shop)
    drain()
    request.refresh_from_db()
    assert request.state == CancellationRequest.State.DENIED
    assert echoing_erp.requests[0].headers["authorization"] == f"Basic {BASIC}"  # the ERP did get them
    job = IntegrationJob.objects.get(pk=request.job_id)
    text = everything_written(job)
    assert_no_secret(text)
    assert f"authorization: {REDACTED}" in request.erp_message
    assert "Refused. You sent:" in request.erp_message  # the rest of the ERP's answer is kept


def test_a_transient_failure_that_echoes_the_password_is_redacted_in_the_error_and_log(echo_shop, echoing_erp):
    echoing_erp.echo_status = 502
    request = cancel(echo_shop)
    drain()
    job = IntegrationJob.objects.get(pk=request.job_id)
    assert job.status == IntegrationJob.Status.FAILURE
    assert_no_secret(everything_written(job))


def test_the_redactor_takes_out_the_password_its_base64_and_authorization_values():
    redactor = Redactor.for_credentials(LOG_ON, PASSWORD)
    text = "\n".join(
        [
            f"Authorization: Basic {BASIC}",
            f'{{"Authorization": "Bearer abc.def", "pw": "{PASSWORD}"}}',
            f"'HTTP_AUTHORIZATION': 'Session {BASIC.rstrip('=')}'",
            "proxy-authorization=Digest username=x",
            f"b64 {base64.b64encode(PASSWORD.encode()).decode()} quoted S3cret%21pw%2Fx",
            "order WEB-1001 already shipped",
        ]
    )
    redacted = redactor.redact(text)
    assert_no_secret(redacted)
    assert "abc.def" not in redacted
    assert "Digest" not in redacted
    assert redacted.splitlines()[0] == f"Authorization: {REDACTED}"
    assert redacted.splitlines()[-1] == "order WEB-1001 already shipped"


def test_the_redactor_redacts_every_string_in_a_result():
    redactor = Redactor.for_credentials(LOG_ON, PASSWORD)
    result = {"erpMessage": f"pw {PASSWORD}", "nested": [{"x": BASIC}], "count": 3, "ok": True, "none": None}
    assert redactor.redact_json(result) == {
        "erpMessage": f"pw {REDACTED}",
        "nested": [{"x": REDACTED}],
        "count": 3,
        "ok": True,
        "none": None,
    }


def test_a_short_password_is_not_searched_as_text_but_its_base64_forms_are():
    redactor = Redactor.for_credentials("u", "abc")
    basic = base64.b64encode(b"u:abc").decode()
    assert redactor.redact(f"abc cab {basic}") == f"abc cab {REDACTED}"


def test_without_a_connection_only_authorization_values_are_redacted():
    assert Redactor().redact("Authorization: Basic Zm9vOmJhcg==\nplain") == f"Authorization: {REDACTED}\nplain"


def test_the_job_log_buffer_redacts_the_lines_it_hands_out():
    log = JobLogBuffer(job_id=1, attempt=1, redactor=Redactor.for_credentials(LOG_ON, PASSWORD))
    log.info(f"calling with {PASSWORD}")
    log.error(f"answer: Authorization: Basic {BASIC}")
    assert [line.message for line in log.take()] == [f"calling with {REDACTED}", f"answer: Authorization: {REDACTED}"]
    assert log.redact(f"x {PASSWORD}") == f"x {REDACTED}"
