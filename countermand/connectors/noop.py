"""`NoOp`: an integration processor that does nothing — for smoke tests, benchmarks and trying the queue."""

from __future__ import annotations

import time

from countermand.integration.plugin import (
    ParameterSpec,
    ParameterType,
    Processor,
    ProcessorContext,
    ProcessorResult,
)


class NoOp(Processor):
    """Does nothing and succeeds. With a `SleepSeconds` job parameter it first blocks that long,
    ignoring the job's deadline (a stand-in for a slow or hung processor)."""

    name = "NoOp"
    description = "Does nothing (optional parameter SleepSeconds: block that long first)."
    parameters = (ParameterSpec("SleepSeconds", ParameterType.NUMBER, description="Block this long first."),)

    def execute(self, context: ProcessorContext) -> ProcessorResult:
        seconds = float(context.parameters.get("SleepSeconds") or 0)
        if seconds > 0:
            time.sleep(seconds)
        context.logger.debug(f"NoOp attempt {context.attempt} of job {context.job.id}")
        return ProcessorResult(data={"noop": True})
