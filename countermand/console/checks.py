"""The setup checklist as the console shows it: the IMPORTANT banners and the index summary."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.options import IS_POPUP_VAR
from django.db.models import QuerySet
from django.http import HttpRequest

from countermand.cancellations.setup_check import (
    CONNECTION_CONFIGURATION_KEY,
    MISSING,
    OK,
    CheckItem,
    connection_configuration_problems,
    setup_check,
)
from countermand.webhooks.models import WebhookSubscription
from countermand.webhooks.selectors import subscriptions_auto_disabled

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


def webhook_banner_context(request: HttpRequest) -> dict[str, QuerySet[WebhookSubscription] | None]:
    """The banner of webhook subscriptions the failure streak disabled, for every console page (the site's
    `each_context`). The queryset is lazy: a page that renders the banner pays one small query, any other
    (a redirect, a JSON answer, the sign-in page) none. Only for those who may open the subscriptions it
    links to; not in pop-ups."""
    if IS_POPUP_VAR in request.GET or not request.user.has_perm("webhooks.view_webhooksubscription"):
        return {"webhook_disabled_subscriptions": None}
    return {"webhook_disabled_subscriptions": subscriptions_auto_disabled()}
