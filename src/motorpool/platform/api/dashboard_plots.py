"""The vehicle page's pictures as SVG coordinates: each plotted signal as a polyline over the
history's time span, and the track as a line in a square (no map tiles: nothing is fetched)."""

from __future__ import annotations

import math
from typing import Any

from ..services.dashboard import History

WIDTH, HEIGHT, TRACK = 600, 140, 260
LABELS = {"soc": "State of charge", "range": "Range", "speed": "Speed"}


def _scaled(values: list[float], low: float, high: float, size: float) -> list[float]:
    span = (high - low) or 1.0
    return [size - (v - low) / span * size for v in values]


def plots(history: History) -> dict[str, Any]:
    span = max(1, history.end_ms - history.start_ms)
    charts = []
    for series in history.series:
        xs = [(t - history.start_ms) / span * WIDTH for t, _ in series.points]
        values = [v for _, v in series.points]
        low, high = min(values), max(values)
        if series.name in ("soc", "speed", "range"):
            low = min(low, 0.0)
        ys = _scaled(values, low, high, HEIGHT)
        charts.append({
            "name": series.name, "label": LABELS.get(series.name, series.name), "unit": series.unit,
            "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True)),
            "low": round(low, 1), "high": round(high, 1), "last": round(values[-1], 1),
        })  # fmt: skip
    track = ""
    if len(set(history.track)) > 1:  # a car that stood still has no trip to draw
        lats = [lat for lat, _ in history.track]
        # A degree of longitude is shorter than one of latitude away from the equator.
        squeeze = math.cos(math.radians(sum(lats) / len(lats)))
        lons = [lon * squeeze for _, lon in history.track]
        extent = max(max(lats) - min(lats), max(lons) - min(lons)) or 1e-6
        track = " ".join(
            f"{(lon - min(lons)) / extent * (TRACK - 20) + 10:.1f},{TRACK - 10 - (lat - min(lats)) / extent * (TRACK - 20):.1f}"
            for lat, lon in zip(lats, lons, strict=True)
        )
    minutes = round(span / 60000)
    return {"charts": charts, "track": track, "minutes": minutes, "width": WIDTH, "height": HEIGHT, "size": TRACK}
