"""`{% sample_data_offer %}`: the *Load sample data* box, shown to a superuser while there is no order."""

from __future__ import annotations

from typing import Any

from django import template

from countermand.console.order_import import installation_is_empty

register = template.Library()


@register.inclusion_tag("console/includes/sample_data_offer.html", takes_context=True)
def sample_data_offer(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"offer": bool(user is not None and user.is_superuser and installation_is_empty())}
