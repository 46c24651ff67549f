"""Forms of the Admin Console: setting values, cancelling orders, running jobs.

Forms only parse what a person typed. Whether a value is valid is decided by the service that stores
it (setting_set, order_cancel_request, job_run…); the views put the service's message on the form.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm

from countermand.integration.models import JobDefinition, JobDefinitionParameter
from countermand.integration.services import JobParameterError, parameter_value_parse
from countermand.orders.models import OrderLine, OrderStatusMapping
from countermand.orders.policies import quantity_text
from countermand.settings.registry import BOOL, CHOICE, INT, LIST, SettingDefinition
from countermand.settings.selectors import settings_for
from countermand.storefront.forms import SignInForm


class ConsoleSignInForm(SignInForm, AdminAuthenticationForm):
    """The console's sign-in: throttled like the storefront and the API, and for staff only."""


# List settings whose values are order statuses: the console offers the mapped statuses as suggestions.
STATUS_LIST_SETTINGS = frozenset({"OrderCancelStatuses", "CancellableOrderStatuses"})


class ListValueWidget(forms.Widget):
    """One text input per list item, plus an empty one, and a **+** button that adds another input.

    Without JavaScript the empty input still lets a person add one value per save.
    """

    template_name = "console/widgets/list_value.html"

    def __init__(self, attrs: dict[str, Any] | None = None, suggestions: Sequence[str] = ()) -> None:
        super().__init__(attrs)
        self.suggestions = list(suggestions)

    def format_value(self, value: Any) -> list[str]:  # type: ignore[override]
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [v for v in value.splitlines() if v.strip()]
        return [str(v) for v in value]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["items"] = self.format_value(value)
        context["widget"]["suggestions"] = self.suggestions
        context["widget"]["datalist_id"] = f"{context['widget']['attrs'].get('id') or name}-suggestions"
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        getter = getattr(data, "getlist", None)
        values = getter(name) if getter else data.get(name, [])
        if isinstance(values, str):
            values = [values]
        return [str(v) for v in values]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data


class ListValueField(forms.Field):
    """A list of text values; blank inputs are dropped. The registry validates the list itself."""

    widget = ListValueWidget

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        return [str(v).strip() for v in value if str(v).strip()]

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.to_python(initial) != self.to_python(data)


def mapped_statuses() -> list[str]:
    """The statuses to suggest as cancellable: those of the Order Status Mapping screen with *Allow
    Cancellation*. Never a status Countermand sets itself while cancelling or once cancelled
    (CancellationRequestedStatus, CancelledStatus), and never one whose mapping forbids cancelling
    (Shipped): suggesting them invited a setting that could never let a buyer cancel."""
    current = settings_for()
    own = {current.cancellation_requested_status, current.cancelled_status}
    rows = OrderStatusMapping.objects.filter(allow_cancellation=True).exclude(erp_order_status__in=own)
    return list(rows.order_by("erp_order_status").values_list("erp_order_status", flat=True))


def setting_value_field(
    definition: SettingDefinition, *, statuses: Sequence[str] = (), label: str = "Value", disabled: bool = False
) -> forms.Field:
    """The form field for one setting's value. It passes text through: the registry validates it."""
    help_text = definition.description
    field: forms.Field
    if definition.type == LIST:
        suggestions = statuses if definition.name in STATUS_LIST_SETTINGS else ()
        field = ListValueField(
            label=label, required=False, widget=ListValueWidget(suggestions=suggestions), help_text=help_text
        )
    elif definition.type == BOOL:
        field = forms.CharField(
            label=label,
            required=False,
            widget=forms.Select(choices=[("True", "True"), ("False", "False")]),
            help_text=help_text,
        )
    elif definition.type == CHOICE:
        field = forms.CharField(
            label=label,
            required=False,
            widget=forms.Select(choices=[(c, c) for c in definition.choices]),
            help_text=help_text,
        )
    elif definition.type == INT:
        field = forms.CharField(
            label=label, required=False, widget=forms.TextInput(attrs={"inputmode": "numeric"}), help_text=help_text
        )
    else:
        field = forms.CharField(label=label, required=False, help_text=help_text)
    field.disabled = disabled
    return field


def setting_initial(definition: SettingDefinition, value: Any) -> Any:
    """A stored value as the field shows it: lists stay lists, the rest becomes text."""
    return list(value) if definition.type == LIST else definition.to_text(value)


class SettingValueForm(forms.Form):
    """Edit one setting's value (Application Settings, Websites > Edit > Settings)."""

    def __init__(
        self, *args: Any, definition: SettingDefinition, statuses: Sequence[str] = (), disabled: bool = False, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.definition = definition
        self.fields["value"] = setting_value_field(definition, statuses=statuses, disabled=disabled)


class CancelOrderForm(forms.Form):
    """Cancel Order in the console: a reason, a note, and *force* for users allowed to force."""

    reason = forms.CharField(
        max_length=100,
        help_text="Choose one of the website's cancellation reasons or type your own.",
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Note")
    force = forms.BooleanField(
        required=False,
        label="Force",
        help_text="Cancel even though the order's status is not cancellable (needs a note saying why).",
    )

    def __init__(
        self,
        *args: Any,
        reasons: Sequence[str] = (),
        may_force: bool = False,
        lines: Sequence[OrderLine] = (),
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.reasons = list(reasons)
        self.fields["reason"].widget.attrs.update({"list": "cancellation-reasons", "autocomplete": "off"})
        if not may_force:
            del self.fields["force"]
        # Partial cancellation: a quantity per line; every line left empty cancels the whole order.
        self.line_numbers = [line.line_number for line in lines]
        for line in lines:
            self.fields[f"line_{line.line_number}"] = forms.DecimalField(
                required=False,
                min_value=Decimal("0"),
                max_digits=14,
                decimal_places=3,
                label=f"Cancel of line {line.line_number}",
                help_text=f"{line.product_number}: {quantity_text(line.quantity_ordered)} ordered, "
                f"{quantity_text(line.quantity_shipped)} shipped, {quantity_text(line.quantity_cancelled)} "
                f"cancelled — {quantity_text(line.quantity_cancellable)} open. Leave every line empty to "
                "cancel the whole order.",
            )

    def cancel_lines(self) -> list[tuple[int, Decimal]]:
        """The (line number, quantity) pairs asked for; none: the whole order."""
        asked = [(number, self.cleaned_data.get(f"line_{number}")) for number in self.line_numbers]
        return [(number, quantity) for number, quantity in asked if quantity]


class JobRunForm(forms.Form):
    """The parameter prompts of a job definition, validated against each parameter's value type."""

    def __init__(self, *args: Any, definition: JobDefinition, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.definition = definition
        self.parameters = list(definition.parameters.all())
        for p in self.parameters:
            widget: forms.Widget = forms.TextInput()
            if p.value_type == JobDefinitionParameter.ValueType.DATE:
                widget = forms.DateInput(attrs={"type": "date"})
            elif p.value_type == JobDefinitionParameter.ValueType.BOOLEAN:
                widget = forms.Select(choices=[("", "—"), ("True", "True"), ("False", "False")])
            self.fields[f"p_{p.name}"] = forms.CharField(
                label=p.prompt or p.name,
                required=p.is_required and not p.default_value,
                initial=p.default_value,
                widget=widget,
                help_text=f"{p.name} ({p.value_type})",
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for p in self.parameters:
            key = f"p_{p.name}"
            if key in cleaned:
                try:
                    parameter_value_parse(p, cleaned[key])
                except JobParameterError as exc:
                    self.add_error(key, exc.message)
        return cleaned

    def parameter_values(self) -> dict[str, str]:
        return {p.name: self.cleaned_data.get(f"p_{p.name}", "") for p in self.parameters}
