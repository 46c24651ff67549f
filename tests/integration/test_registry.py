"""The registry: what plugins declare is checked when they load and when a job definition is saved."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from countermand.core.errors import ValidationFailed
from countermand.integration.models import JobDefinition
from countermand.integration.plugin import (
    ParameterSpec,
    ParameterType,
    Processor,
    ProcessorContext,
    ProcessorKind,
)
from countermand.integration.registry import Registry, definition_processor_problems, registry
from countermand.integration.services import job_definition_save


class Counting(Processor):
    name = "TestCounting"
    parameters = (
        ParameterSpec("Count", ParameterType.NUMBER, required=True),
        ParameterSpec("Verbose", ParameterType.BOOLEAN),
    )

    def execute(self, context: ProcessorContext) -> None:
        return None


@pytest.fixture
def counting() -> Iterator[type[Processor]]:
    registry().add(Counting, "test plugin")
    yield Counting
    registry().processors.pop(Counting.name, None)


def problems(parameters: dict[str, str] | None) -> list[str]:
    return definition_processor_problems(
        preprocessor="None",
        integration_processor="TestCounting",
        post_processor="None",
        connection_type=None,
        parameters=parameters,
    )


@pytest.mark.usefixtures("counting")
def test_a_required_parameter_the_definition_lacks_is_a_problem():
    assert problems({}) == ["TestCounting needs a parameter Count of type Number."]


@pytest.mark.usefixtures("counting")
def test_a_declared_parameter_of_another_type_is_a_problem_and_optional_ones_may_be_left_out():
    assert problems({"Count": "String"}) == ["TestCounting reads the parameter Count as Number, not String."]
    assert problems({"Count": "Number"}) == []
    assert problems({"Count": "Number", "Verbose": "Date"}) == [
        "TestCounting reads the parameter Verbose as Boolean, not Date."
    ]
    assert problems(None) == []  # parameters not known (a definition not saved yet)


@pytest.mark.django_db
@pytest.mark.usefixtures("counting")
def test_saving_a_definition_checks_its_parameters_against_what_its_processor_declares():
    definition = JobDefinition(name="Counts", integration_processor="TestCounting")
    with pytest.raises(ValidationFailed, match="needs a parameter Count of type Number"):
        job_definition_save(definition=definition, parameters=[])
    assert not JobDefinition.objects.filter(name="Counts").exists()  # refused: nothing saved
    definition = JobDefinition(name="Counts", integration_processor="TestCounting")
    with pytest.raises(ValidationFailed, match="reads the parameter Count as Number, not String"):
        job_definition_save(definition=definition, parameters=[{"name": "Count", "value_type": "String"}])
    definition = JobDefinition(name="Counts", integration_processor="TestCounting")
    job_definition_save(definition=definition, parameters=[{"name": "Count", "value_type": "Number"}])
    assert definition.parameters.get().value_type == "Number"


def test_a_processor_with_an_unknown_kind_or_parameter_type_is_a_load_error_not_a_processor():
    class BadKind(Processor):
        name = "TestBadKind"
        kind = "sideprocessor"  # type: ignore[assignment]

        def execute(self, context: ProcessorContext) -> None:
            return None

    class BadParameter(Processor):
        name = "TestBadParameter"
        kind = ProcessorKind.POSTPROCESSOR
        parameters = (ParameterSpec("When", "Time"),)  # type: ignore[arg-type]

        def execute(self, context: ProcessorContext) -> None:
            return None

    reg = Registry()
    reg.add([BadKind, BadParameter, "not a plugin"], "entry point bad")
    assert reg.processors == {}
    assert reg.load_errors == [
        "entry point bad: processor BadKind has unknown kind 'sideprocessor'",
        "entry point bad: processor BadParameter declares parameter 'When' of unknown type 'Time'",
        "entry point bad: 'not a plugin' is neither a Processor subclass nor a ConnectionType",
    ]


def test_the_built_in_connectors_and_the_refresh_are_registered_through_entry_points():
    from importlib.metadata import entry_points

    from countermand.integration.plugin import ENTRY_POINT_GROUP

    values = {ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert {"countermand.connectors:PLUGINS", "countermand.orders.refresh:PLUGINS"} <= values
    assert {"WebServiceOrderCancel", "TrytonOrderCancel", "NoOp", "OrderHistoryRefresh"} <= set(registry().processors)
    assert {"WebService", "Sandbox", "Tryton"} <= set(registry().connection_types)
    assert registry().processors["OrderHistoryRefresh"].__module__ == "countermand.orders.refresh"


def test_processors_fitting_a_connection_type_come_from_their_declarations():
    from countermand.integration.registry import connection_types_accepted, processors_fitting

    sandbox = processors_fitting("Sandbox")
    assert sandbox[0] == "WebServiceOrderCancel"  # declares Sandbox; processors accepting anything follow
    assert "TrytonOrderCancel" not in sandbox
    assert processors_fitting("Tryton")[0] == "TrytonOrderCancel"
    assert connection_types_accepted("TrytonOrderCancel") == ("Tryton",)
    assert connection_types_accepted("NoSuchProcessor") == ()
