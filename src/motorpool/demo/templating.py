"""The demo's Jinja2 environment and the filters its pages use to show readings."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from .vehicles import Position, Quantity

TEMPLATES = Path(__file__).parent / "templates"

#: How a unit is written after a number on the page.
UNIT_LABELS = {"percent": "%", "kilometers": "km", "miles": "mi"}

#: The label and the colour of each charging state.
CHARGING_STATES = {
    "CHARGING": ("Charging", "info"),
    "FULLY_CHARGED": ("Fully charged", "ok"),
    "NOT_CHARGING": ("Not charging", "neutral"),
}


def quantity(reading: Quantity) -> str:
    """``"42.3 km"``, ``"123,818 km"``, ``"73.6 %"``: a decimal only where it tells something."""
    number = reading.value
    text = f"{number:,.0f}" if abs(number) >= 100 or float(number).is_integer() else f"{number:,.1f}"
    unit = UNIT_LABELS.get(reading.unit or "", reading.unit or "")
    return f"{text} {unit}".rstrip()


def coordinates(position: Position) -> tuple[str, str]:
    """Latitude and longitude as ``"52.5200° N"`` and ``"13.4050° E"``."""
    north = "N" if position.latitude >= 0 else "S"
    east = "E" if position.longitude >= 0 else "W"
    return f"{abs(position.latitude):.4f}° {north}", f"{abs(position.longitude):.4f}° {east}"


def clamp_percent(value: float | None) -> float:
    """A percentage fit for a gauge's width."""
    return max(0.0, min(100.0, float(value or 0)))


def charging_label(state: str) -> str:
    known = CHARGING_STATES.get(state)
    return known[0] if known else state.replace("_", " ").capitalize()


def charging_tone(state: str) -> str:
    known = CHARGING_STATES.get(state)
    return known[1] if known else "neutral"


def templates() -> Jinja2Templates:
    """The pages, with the filters above."""
    pages = Jinja2Templates(directory=str(TEMPLATES))
    pages.env.filters.update(
        quantity=quantity,
        coordinates=coordinates,
        clamp_percent=clamp_percent,
        charging_label=charging_label,
        charging_tone=charging_tone,
    )
    return pages
