"""How the console writes numbers: quantities without trailing zeros, money with two decimals.

The database keeps quantities to 3 decimals and unit prices to 4; Django's admin printed them as stored
("20.000", "3.2000"). People read "20" and "3.20" (and "0.1234" when a price really has four decimals).
"""

from __future__ import annotations

from decimal import Decimal

from countermand.orders import policies


def quantity_text(value: Decimal | None) -> str:
    """20.000 → "20", 2.500 → "2.5" (as the rules' sentences write it); "—" for none."""
    return "—" if value is None else policies.quantity_text(value)


def money_text(value: Decimal | None) -> str:
    """3.2000 → "3.20"; 0.1234 → "0.1234" (a price with more than two significant decimals keeps them)."""
    if value is None:
        return "—"
    if value == value.quantize(Decimal("0.01")):
        return f"{value.quantize(Decimal('0.01')):,f}"
    return f"{value.normalize():,f}"
