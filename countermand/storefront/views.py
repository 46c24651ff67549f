"""Storefront pages: sign in / out, *My orders*, the order page, cancelling, and the progress feed.

Thin: resolve the website and buyer (shop.py), read through selectors, call order_cancel_request, render.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import LinesNotCancellable, OrderNotCancellable, order_cancel_request
from countermand.core.errors import NotFound, ValidationFailed
from countermand.orders.actors import BuyerCustomerInactive
from countermand.orders.history import DEFAULT_PAGE_SIZE, order_history_page, orders_shown
from countermand.orders.models import Order
from countermand.orders.policies import (
    ALREADY_CANCELLED,
    ALREADY_REQUESTED,
    MAPPING_DISALLOWS,
    STATUS_NOT_CANCELLABLE,
    WEBSITE_DISABLED,
)
from countermand.orders.selectors import buyer_order_get, buyer_orders, order_latest_cancellation, status_mappings
from countermand.storefront.forms import CancelOrderForm, OrderFilterForm, PasswordResetRequestForm, SignInForm
from countermand.storefront.shop import NoStorefrontAccess, Shop, shop_for

# The extra tag of the "has been requested" flash (storefront.js removes it when the ERP answers).
CANCELLATION_MESSAGE_TAG = "cancellation"

# Seconds between progress polls while the ERP has not answered (the script backs off to the maximum).
POLL_SECONDS, POLL_MAX_SECONDS = 2, 30


class SignInView(auth_views.LoginView):
    template_name = "storefront/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_invalid(self, form: SignInForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)
        response.status_code = 429 if form.throttled else 200
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """*Forgot your password?*: throttled (429 past the limits); otherwise always the same *sent* page."""

    form_class = PasswordResetRequestForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form: PasswordResetRequestForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)
        response.status_code = 429 if form.throttled else 200
        return response


def signed_out(request: HttpRequest, exc: BuyerCustomerInactive) -> HttpResponse:
    """A session of a buyer whose customer has become inactive ends, as an inactive user's does: sign
    them out and send them to the sign-in page, saying why."""
    logout(request)
    messages.error(request, exc.message)
    return redirect(reverse("storefront:login"))


def buyer_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in buyers only; passes the Shop. Others see why they cannot use the storefront (403)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            shop = shop_for(request)
        except NoStorefrontAccess as exc:
            return render(request, "storefront/no_access.html", {"reason": exc.reason}, status=403)
        except BuyerCustomerInactive as exc:
            return signed_out(request, exc)
        return view(request, shop, *args, **kwargs)

    return wrapper


def order_or_404(request: HttpRequest, shop: Shop, number: str) -> Order | HttpResponse:
    """The buyer's order on this website; any other number — another customer's too — is a 404 page."""
    try:
        return buyer_order_get(shop.actor, number)
    except NotFound:
        return render(request, "storefront/order_not_found.html", {"shop": shop, "number": number}, status=404)


# How many orders the home page lists; the rest are one click away in My orders.
RECENT_ORDERS = 5


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The storefront's front page: the sign-in for a visitor; a signed-in buyer's most recent orders, the
    ones they can still cancel marked, with the way to all of them."""
    if not request.user.is_authenticated:
        return render(request, "storefront/home.html", {"form": SignInForm(request), "next": reverse("home")})
    try:
        shop = shop_for(request)
    except NoStorefrontAccess as exc:
        return render(request, "storefront/no_access.html", {"reason": exc.reason}, status=403)
    except BuyerCustomerInactive as exc:
        return signed_out(request, exc)
    mappings = status_mappings()
    page = order_history_page(buyer_orders(shop.actor), page=1, page_size=RECENT_ORDERS)
    shown = orders_shown(page.items, actor=shop.actor, website_ids=[shop.website.pk], mappings=mappings)
    return render(
        request,
        "storefront/home.html",
        {
            "shop": shop,
            "page": page,
            "rows": [(order, shown.status_display(order), shown.can_cancel(order)) for order in page.items],
            "show_status": shown.show_status[shop.website.pk],
        },
    )


@require_GET
@buyer_page
def order_list(request: HttpRequest, shop: Shop) -> HttpResponse:
    mappings = status_mappings()
    form = OrderFilterForm(request.GET or None, mappings=mappings)
    filters = form.filters()
    orders = filters.apply(buyer_orders(shop.actor))
    try:
        page_number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page_number = 1
    page = order_history_page(orders, page=page_number, page_size=DEFAULT_PAGE_SIZE)
    if not page.items and page.total and page.page > page.number_of_pages:
        page = order_history_page(orders, page=page.number_of_pages, page_size=DEFAULT_PAGE_SIZE)
    shown = orders_shown(page.items, actor=shop.actor, website_ids=[shop.website.pk], mappings=mappings)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("website", None)
    return render(
        request,
        "storefront/orders.html",
        {
            "shop": shop,
            "form": form,
            "filtered": filters.active,
            "page": page,
            "rows": [(order, shown.status_display(order), shown.can_cancel(order)) for order in page.items],
            "show_status": shown.show_status[shop.website.pk],
            "show_erp_number": shown.show_erp_number[shop.website.pk],
            "query": query.urlencode(),
            "page_links": page_links(page.page, page.number_of_pages),
        },
    )


def page_links(current: int, last: int, around: int = 2) -> list[int | None]:
    """Page numbers to link: the first, the last, and a few around the current one (None is a gap)."""
    wanted = sorted({1, last, *range(max(1, current - around), min(last, current + around) + 1)})
    links: list[int | None] = []
    for number in wanted:
        if links and number - (links[-1] or 0) > 1:
            links.append(None)
        links.append(number)
    return links


def cancellation_context(order: Order, shop: Shop) -> dict[str, Any]:
    """What the cancellation panel shows: the latest request's progress, the button, or why not."""
    shown = orders_shown([order], actor=shop.actor, with_lines=True)
    latest = order_latest_cancellation(order)
    blockers = shown.blockers[order.id]
    codes = {b.code for b in blockers}
    hidden = {ALREADY_REQUESTED, ALREADY_CANCELLED} if latest else set()  # the progress panel says so
    if STATUS_NOT_CANCELLABLE in codes:
        hidden.add(MAPPING_DISALLOWS)  # to a buyer both say the same: the order's status
    explained = [b for b in blockers if b.code not in hidden]
    return {
        "order": order,
        "status_display": shown.status_display(order),
        "show_status": shown.show_status[order.website_id],
        "show_erp_number": shown.show_erp_number[order.website_id],
        "latest": latest,
        "waiting": bool(latest and latest.state in CancellationRequest.OPEN_STATES),
        "can_cancel": not blockers,
        # A website that does not offer cancellation shows no Cancel button and no explanation.
        "offers_cancellation": WEBSITE_DISABLED not in codes,
        "blockers": explained,
        # Blocked by its status (shipped…): the panel offers the next step instead of a dead end.
        "status_blocked": bool({STATUS_NOT_CANCELLABLE, MAPPING_DISALLOWS} & codes),
        "reasons": shown.reasons[order.website_id],
        # The lines a buyer may cancel alone (partial cancellation offered on this website), else none.
        "cancellable_lines": [line for line in order.lines.all() if not shown.blockers_of_line(line)]
        if shown.can_cancel_lines(order)
        else [],
    }


@require_GET
@buyer_page
def order_detail(request: HttpRequest, shop: Shop, number: str) -> HttpResponse:
    order = order_or_404(request, shop, number)
    if isinstance(order, HttpResponse):
        return order
    panel = cancellation_context(order, shop)
    return render(
        request,
        "storefront/order_detail.html",
        {
            "shop": shop,
            "lines": list(order.lines.all()),
            "cancel_form": CancelOrderForm(reasons=panel["reasons"], lines=panel["cancellable_lines"]),
            "progress_url": reverse("storefront:order-progress", args=[order.web_order_number]),
            "poll_seconds": POLL_SECONDS,
            "poll_max_seconds": POLL_MAX_SECONDS,
            **panel,
        },
    )


@require_http_methods(["GET", "POST"])
@buyer_page
def order_cancel(request: HttpRequest, shop: Shop, number: str) -> HttpResponse:
    """POST: request the cancellation. GET: the confirmation form on its own page (without JavaScript)."""
    order = order_or_404(request, shop, number)
    if isinstance(order, HttpResponse):
        return order
    panel = cancellation_context(order, shop)
    detail_url = reverse("storefront:order", args=[order.web_order_number])
    form = CancelOrderForm(request.POST or None, reasons=panel["reasons"], lines=panel["cancellable_lines"])
    if request.method == "POST" and form.is_valid():
        lines = form.cancel_lines()
        try:
            order_cancel_request(
                order=order,
                actor=shop.actor,
                channel=CancellationRequest.Channel.STOREFRONT,
                reason_code=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                lines=lines,
            )
        except (OrderNotCancellable, LinesNotCancellable, ValidationFailed) as exc:
            messages.error(request, exc.message)
        else:
            # Tagged, so the page's script can take the flash away once the order system has answered.
            what = "lines of order" if lines else "order"
            messages.success(
                request,
                f"Your cancellation of {what} {order.web_order_number} has been requested.",
                extra_tags=CANCELLATION_MESSAGE_TAG,
            )
        return redirect(detail_url)
    if not panel["can_cancel"]:
        return redirect(detail_url)
    return render(
        request,
        "storefront/cancel.html",
        {"shop": shop, "order": order, "form": form, "detail_url": detail_url},
        status=400 if request.method == "POST" else 200,
    )


@require_GET
@buyer_page
def order_progress(request: HttpRequest, shop: Shop, number: str) -> HttpResponse:
    """The cancellation panel and the order status as JSON, for the order page's polling script."""
    try:
        order = buyer_order_get(shop.actor, number)
    except NotFound as exc:
        return JsonResponse({"code": exc.code, "message": exc.message}, status=404)
    panel = cancellation_context(order, shop)
    latest = panel["latest"]
    return JsonResponse(
        {
            "status": order.status,
            "statusDisplay": panel["status_display"],
            "state": latest.state if latest else None,
            "waiting": panel["waiting"],
            "html": render_to_string("storefront/_cancellation.html", {**panel, "shop": shop}, request=request),
        },
        headers={"Cache-Control": "no-store"},
    )
