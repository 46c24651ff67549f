"""The three-step pipeline with processors a plugin would register, and the registry's guard on definitions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from countermand.cancellations.setup_check import setup_check
from countermand.core.errors import ValidationFailed
from countermand.integration.models import IntegrationJob, JobDefinition
from countermand.integration.plugin import (
    Processor,
    ProcessorContext,
    ProcessorKind,
    ProcessorResult,
    TransientError,
)
from countermand.integration.registry import registry
from countermand.integration.services import job_definition_save, job_run
from tests.integration.conftest import drain

Status = IntegrationJob.Status
pytestmark = pytest.mark.django_db


class StampPre(Processor):
    name = "TestStampPre"
    kind = ProcessorKind.PREPROCESSOR

    def execute(self, context: ProcessorContext) -> None:
        context.data["trail"] = ["pre"]
        context.logger.info(f"preprocessing {context.parameters['Count'] + 1}")


class StampIntegration(Processor):
    name = "TestStampIntegration"

    def execute(self, context: ProcessorContext) -> None:
        context.data["trail"].append("integration")
        if context.parameters["Mode"] == "fatal":
            context.logger.fatal("the ERP sent nonsense")
        elif context.parameters["Mode"] == "crash":
            raise KeyError("missing-field")
        elif context.parameters["Mode"] == "warn":
            context.logger.warn("2 lines skipped")
        elif context.parameters["Mode"] == "transient":
            raise TransientError("ERP busy")


class StampPost(Processor):
    name = "TestStampPost"
    kind = ProcessorKind.POSTPROCESSOR

    def execute(self, context: ProcessorContext) -> ProcessorResult:
        context.data["trail"].append("post")
        return ProcessorResult(data={"trail": context.data["trail"]})


@pytest.fixture
def stamp_definition() -> Iterator[JobDefinition]:
    reg = registry()
    for proc in (StampPre, StampIntegration, StampPost):
        reg.add(proc, "test plugin")
    definition = JobDefinition.objects.create(
        name="Stamp",
        preprocessor="TestStampPre",
        integration_processor="TestStampIntegration",
        post_processor="TestStampPost",
        max_retries=1,
        retry_backoff_seconds=0,
    )
    definition.parameters.create(name="Mode", value_type="String", default_value="ok", sequence=1)
    definition.parameters.create(name="Count", value_type="Number", default_value="1", sequence=2)
    yield definition
    for proc in (StampPre, StampIntegration, StampPost):
        reg.processors.pop(proc.name, None)


def run(definition: JobDefinition, **parameters: str) -> IntegrationJob:
    job = job_run(definition_id=definition.pk, parameters=parameters, actor_id=None)
    drain()
    job.refresh_from_db()
    return job


def test_the_steps_run_in_order_sharing_the_context_with_typed_parameters(stamp_definition):
    job = run(stamp_definition, Count="41")
    assert job.status == Status.SUCCESS
    assert job.result["trail"] == ["pre", "integration", "post"]
    assert job.logs.filter(module_name="TestStampPre", message="preprocessing 42").exists()


def test_a_warning_makes_the_job_succeed_with_warnings(stamp_definition):
    job = run(stamp_definition, Mode="warn")
    assert job.status == Status.SUCCESS_WITH_WARNINGS
    assert job.warning_count == 1


def test_a_fatal_log_fails_the_attempt_and_stops_the_pipeline(stamp_definition):
    job = run(stamp_definition, Mode="fatal")
    assert job.status == Status.FAILURE
    assert job.attempt == 2
    assert "Fatal" in job.error
    assert job.logs.filter(level="Fatal", message="the ERP sent nonsense").count() == 2
    assert not job.result


def test_an_unhandled_exception_fails_the_attempt_with_its_traceback_in_the_log(stamp_definition):
    job = run(stamp_definition, Mode="crash")
    assert job.status == Status.FAILURE
    assert "KeyError" in job.error
    assert job.logs.filter(level="Error", message__contains="Traceback").exists()


def test_a_transient_error_is_retried_and_logged_per_attempt(stamp_definition):
    job = run(stamp_definition, Mode="transient")
    assert job.status == Status.FAILURE
    assert job.attempt == 2
    assert sorted(set(job.logs.values_list("attempt", flat=True))) == [0, 1, 2]


def test_a_definition_naming_an_unknown_processor_cannot_be_saved():
    with pytest.raises(ValidationFailed) as exc:
        job_definition_save(definition=JobDefinition(name="Broken", integration_processor="NoSuchProcessor"))
    assert "NoSuchProcessor" in exc.value.message
    assert not JobDefinition.objects.filter(name="Broken").exists()


def test_a_definition_whose_processor_was_uninstalled_is_reported_by_check(shop, stamp_definition):
    registry().processors.pop("TestStampPost")
    item = next(i for i in setup_check() if i.key == "processors")
    assert not item.ok
    assert "TestStampPost" in item.detail


def test_a_job_whose_processor_is_missing_at_run_time_fails_with_a_fatal_log(stamp_definition):
    job = job_run(definition_id=stamp_definition.pk, parameters={}, actor_id=None)
    registry().processors.pop("TestStampPost")
    drain()
    job.refresh_from_db()
    assert job.status == Status.FAILURE
    assert job.logs.filter(level="Fatal", message__contains="'TestStampPost' is not installed").exists()
