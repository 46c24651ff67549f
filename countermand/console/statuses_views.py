"""Administration > System > Cancellable statuses: per status and website, can buyers cancel, and why.

A thin entry point over `countermand.orders.cancellable.cancellable_statuses` (the rules' own verdict); this
module only turns each verdict into sentences naming the setting that decides it, with a link to change it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from countermand.console.pages import page_context
from countermand.orders.cancellable import StatusCancellability, StatusOnWebsite, cancellable_statuses
from countermand.orders.policies import BlockerCode

VIEW_SETTINGS, CHANGE_SETTINGS = "settings.view_systemsetting", "settings.change_systemsetting"


@dataclass(frozen=True)
class Reason:
    """One sentence of a verdict: which setting says what, and the page that changes it."""

    text: str
    links: tuple[tuple[str, str], ...] = ()  # (label, url)
    blocks: bool = False


def _application_link() -> tuple[str, str]:
    return (
        "Change OrderCancelStatuses",
        reverse("admin:console_application_setting_edit", args=["OrderCancelStatuses"]),
    )


def _website_link(cell: StatusOnWebsite, name: str, label: str) -> tuple[str, str]:
    return (
        f"Change {label} on {cell.website.name}",
        reverse("admin:websites_website_setting", args=[cell.website.pk, name]),
    )


def _mapping_link(row: StatusCancellability) -> tuple[str, str]:
    if row.mapping is None:
        return ("Add a mapping", reverse("admin:orders_orderstatusmapping_add"))
    return (
        f"Change the mapping of {row.status}",
        reverse("admin:orders_orderstatusmapping_change", args=[row.mapping.pk]),
    )


def cell_reasons(row: StatusCancellability, cell: StatusOnWebsite) -> list[Reason]:
    """Why a buyer can or cannot cancel an order in `row.status` on `cell.website`, setting by setting."""
    website = cell.website.name
    reasons: list[Reason] = []
    codes = {b.code for b in cell.blockers}
    if BlockerCode.ALREADY_CANCELLED in codes:
        return [Reason("This is the status of cancelled orders (setting CancelledStatus).", blocks=True)]
    if BlockerCode.ALREADY_REQUESTED in codes:
        return [
            Reason(
                "This is the status of orders waiting for the ERP (setting CancellationRequestedStatus).", blocks=True
            )
        ]
    if BlockerCode.WEBSITE_DISABLED in codes:
        reasons.append(
            Reason(
                f"AllowCancellationRequest is off on {website}: buyers cannot cancel any order there.",
                (_website_link(cell, "AllowCancellationRequest", "AllowCancellationRequest"),),
                blocks=True,
            )
        )
    else:
        reasons.append(
            Reason(
                f"AllowCancellationRequest is on for {website}.",
                (_website_link(cell, "AllowCancellationRequest", "AllowCancellationRequest"),),
            )
        )
    if BlockerCode.STATUS_NOT_CANCELLABLE in codes:
        reasons.append(
            Reason(
                f"Neither OrderCancelStatuses nor Cancellable Order Statuses of {website} lists {row.status}.",
                (_application_link(), _website_link(cell, "CancellableOrderStatuses", "Cancellable Order Statuses")),
                blocks=True,
            )
        )
    else:
        if cell.listed_by_application:
            reasons.append(Reason(f"OrderCancelStatuses lists {row.status}.", (_application_link(),)))
        if cell.listed_by_website:
            reasons.append(
                Reason(
                    f"Cancellable Order Statuses of {website} lists {row.status}.",
                    (_website_link(cell, "CancellableOrderStatuses", "Cancellable Order Statuses"),),
                )
            )
    if BlockerCode.MAPPING_DISALLOWS in codes:
        text = (
            f"No Order Status Mapping for {row.status}."
            if row.mapping is None
            else f"The mapping of {row.status} has Allow Cancellation off."
        )
        reasons.append(Reason(text, (_mapping_link(row),), blocks=True))
    else:
        reasons.append(Reason(f"The mapping of {row.status} has Allow Cancellation on.", (_mapping_link(row),)))
    if BlockerCode.NO_ERP_JOB in codes:
        reasons.append(
            Reason(
                "There is no active OrderCancel job and CancellationWithoutErpJob is Refuse.",
                (("Job Definitions", reverse("admin:integration_jobdefinition_changelist")),),
                blocks=True,
            )
        )
    explained = {
        BlockerCode.WEBSITE_DISABLED,
        BlockerCode.STATUS_NOT_CANCELLABLE,
        BlockerCode.MAPPING_DISALLOWS,
        BlockerCode.NO_ERP_JOB,
    }
    reasons.extend(Reason(b.message, blocks=True) for b in cell.blockers if b.code not in explained)
    return reasons


def cancellable_statuses_view(request: HttpRequest, *, site: admin.AdminSite) -> HttpResponse:
    """The table of statuses by websites: Yes or No for a buyer's order, each with the settings behind it."""
    user = request.user
    if not (user.has_perm(VIEW_SETTINGS) or user.has_perm(CHANGE_SETTINGS)):
        raise PermissionDenied
    matrix = cancellable_statuses()
    rows = [
        {
            "status": row,
            "cells": [{"cell": cell, "reasons": cell_reasons(row, cell)} for cell in row.websites],
        }
        for row in matrix.statuses
    ]
    context = page_context(
        request, site=site, section="system", name="Cancellable statuses", title="Cancellable statuses"
    )
    context.update({"matrix": matrix, "rows": rows})
    return TemplateResponse(request, "console/cancellable_statuses.html", context)
