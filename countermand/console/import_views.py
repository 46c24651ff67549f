"""Sales > Import orders: upload orders (JSON or CSV), preview them with every error, import all or nothing;
and on an empty installation, *Load sample data* (the demo's store, buyers, orders and Sandbox ERP).

Thin entry points over `countermand.console.order_import` (the admin API's validation and import service)
and `countermand.demo.demo_load`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from countermand.console.order_import import (
    LINE_COLUMNS,
    MAX_ORDERS,
    ORDER_COLUMNS,
    UploadInvalid,
    installation_is_empty,
    orders_import,
    orders_parse,
)
from countermand.console.pages import page_context
from countermand.demo import demo_load
from countermand.websites.models import Website

ADD_ORDERS = "orders.add_order"


class OrderUploadForm(forms.Form):
    file = forms.FileField(
        label="Orders file", help_text="JSON (as the admin API's POST /api/v1/admin/orders) or CSV, UTF-8."
    )


def _page(request: HttpRequest, site: admin.AdminSite, **extra: Any) -> TemplateResponse:
    context = page_context(
        request,
        site=site,
        section="sales",
        name="Import orders",
        title="Import orders",
        list_url=reverse("admin:orders_order_changelist"),
    )
    context.update(
        {
            "websites": Website.objects.order_by("name"),
            "order_columns": ORDER_COLUMNS,
            "line_columns": list(LINE_COLUMNS),
            "max_orders": MAX_ORDERS,
            "form": OrderUploadForm(),
            **extra,
        }
    )
    return TemplateResponse(request, "console/order_import.html", context)


def order_import_view(request: HttpRequest, *, site: admin.AdminSite) -> HttpResponse:
    """GET: the upload form. POST `_preview` (a file): every order checked, nothing saved. POST `_import`
    (the previewed content): imported when no order has an error, else nothing is and the errors show."""
    if not request.user.has_perm(ADD_ORDERS):
        raise PermissionDenied
    if request.method != "POST":
        return _page(request, site)
    if "_import" in request.POST:
        content, filename = request.POST.get("content", ""), request.POST.get("filename", "")
    else:
        form = OrderUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return _page(request, site, form=form)
        upload = form.cleaned_data["file"]
        content, filename = upload.read(), upload.name
        if isinstance(content, bytes):
            try:
                content = content.decode("utf-8-sig")
            except UnicodeDecodeError:
                return _page(request, site, upload_error="The file is not UTF-8 text.")
    try:
        orders = orders_parse(content, filename=filename)
    except UploadInvalid as exc:
        return _page(request, site, upload_error=str(exc), filename=filename)
    result = orders_import(orders, actor_id=request.user.pk, save="_import" in request.POST)
    if result.saved:
        messages.success(request, f"Imported {len(result.orders)} order(s) from {filename or 'the file'}.")
        return HttpResponseRedirect(reverse("admin:orders_order_changelist"))
    return _page(
        request, site, result=result, content=content, filename=filename, previewed="_import" not in request.POST
    )


def sample_data_load_view(request: HttpRequest, *, site: admin.AdminSite) -> HttpResponse:
    """POST: the demo data, offered to a superuser while there is no order (it adds websites, buyers with
    known passwords, settings, a Sandbox ERP connection and the OrderCancel job)."""
    if request.method != "POST":
        return HttpResponseRedirect(reverse("admin:console_order_import"))
    if not request.user.is_superuser:
        raise PermissionDenied
    if not installation_is_empty():
        messages.error(request, "Sample data is only loaded into an installation without orders.")
        return HttpResponseRedirect(reverse("admin:console_order_import"))
    created = demo_load(sandbox_url=request.build_absolute_uri("/sandbox-erp").rstrip("/"), admin_account=False)
    messages.success(
        request,
        f"Loaded the sample data: {created['orders']} orders on Demo Store, the Sandbox ERP connection and the "
        "OrderCancel job. Buyers sign in to the storefront as buyer@example.com (password demo-buyer) or "
        "other@example.com (demo-other): change or delete these accounts before real buyers use this installation.",
    )
    return HttpResponseRedirect(reverse("admin:console_setup"))
