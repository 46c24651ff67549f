"""The setup checklist as the console shows it: the IMPORTANT banner and the index summary."""

from __future__ import annotations

from typing import Any

from countermand.cancellations.setup_check import (
    CONNECTION_CONFIGURATION_KEY,
    MISSING,
    OK,
    CheckItem,
    connection_configuration_problems,
    setup_check,
)

CANCEL_JOB_KEY = "cancel-job"


def cancel_job_problem(items: list[CheckItem] | None = None) -> CheckItem | None:
    """The checklist's `cancel-job` item when it is not done: cancellations would not reach the ERP."""
    for item in items if items is not None else setup_check():
        if item.key == CANCEL_JOB_KEY and item.state != OK:
            return item
    return None


def console_setup_context() -> dict[str, Any]:
    """Template context for pages that show the banner and the checklist summary."""
    items = setup_check()
    return {
        "setup_items": items,
        "setup_done": sum(1 for i in items if i.state == OK),
        "setup_total": len(items),
        "setup_missing": sum(1 for i in items if i.state == MISSING),
        "cancel_job_problem": cancel_job_problem(items),
        "connection_problems": [i for i in items if i.key.startswith(CONNECTION_CONFIGURATION_KEY)],
    }


def banner_context() -> dict[str, Any]:
    """Only the banners, for the order and cancellation pages."""
    return {"cancel_job_problem": cancel_job_problem(), "connection_problems": connection_configuration_problems()}
