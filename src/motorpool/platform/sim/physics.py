"""Closed-form physics: the charging curve and the distance covered on a trip.

Both are integrated exactly rather than stepped, so a value at any instant costs the same
whether the session started a minute or a month ago, and folding a session at an intermediate
instant and continuing gives the same numbers as integrating straight through."""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

HOUR_MS = 3_600_000

AC_EFFICIENCY = 0.90
DC_EFFICIENCY = 0.95
#: Charging power as a fraction of the peak, by state of charge (piecewise linear). AC holds its
#: power to the top; DC holds its peak to about half, eases off to 80 % and then tapers hard.
AC_SHAPE: tuple[tuple[float, float], ...] = ((0.0, 1.0), (100.0, 1.0))
DC_SHAPE: tuple[tuple[float, float], ...] = ((0.0, 1.0), (55.0, 1.0), (80.0, 0.55), (90.0, 0.3), (100.0, 0.08))


@dataclass(frozen=True, slots=True)
class ChargeCurve:
    """State of charge over time for one charger and one battery.

    ``dS/dt = k · shape(S)`` with ``k = peak_kw · efficiency / capacity_kwh · 100`` (%/h); on each
    linear piece of the shape that is a linear ODE with an exponential (or linear) solution."""

    peak_kw: float
    capacity_kwh: float
    dc: bool

    @property
    def efficiency(self) -> float:
        return DC_EFFICIENCY if self.dc else AC_EFFICIENCY

    @property
    def shape(self) -> tuple[tuple[float, float], ...]:
        return DC_SHAPE if self.dc else AC_SHAPE

    @property
    def _k(self) -> float:
        return self.peak_kw * self.efficiency / self.capacity_kwh * 100.0

    def fraction(self, soc: float) -> float:
        shape = self.shape
        for (a, fa), (b, fb) in pairwise(shape):
            if soc <= b:
                return fa + (fb - fa) * (max(soc, a) - a) / (b - a)
        return shape[-1][1]

    def grid_kw(self, soc: float) -> float:
        """Power drawn from the charger at this state of charge."""
        return self.peak_kw * self.fraction(soc)

    def _pieces(self, start: float, end: float) -> list[tuple[float, float, float, float]]:
        """(from, to, alpha, beta) of each linear piece between two states of charge."""
        pieces = []
        shape = self.shape
        for (a, fa), (b, fb) in pairwise(shape):
            lo, hi = max(a, start), min(b, end)
            if lo >= hi:
                continue
            beta = (fb - fa) / (b - a)
            pieces.append((lo, hi, fa - beta * a, beta))
        return pieces

    def hours_between(self, start: float, end: float) -> float:
        """Hours to charge from ``start`` to ``end`` percent (0 when ``end <= start``)."""
        if end <= start or self.peak_kw <= 0:
            return 0.0 if end <= start else math.inf
        k = self._k
        total = 0.0
        for lo, hi, alpha, beta in self._pieces(start, end):
            if abs(beta) < 1e-12:
                total += (hi - lo) / (k * alpha)
            else:
                c = alpha / beta
                total += math.log((hi + c) / (lo + c)) / (k * beta)
        return total

    def soc_after(self, start: float, hours: float, limit: float) -> float:
        """State of charge after charging ``hours`` from ``start``, never past ``limit``."""
        if start >= limit or hours <= 0 or self.peak_kw <= 0:
            return start
        k = self._k
        soc, left = start, hours
        for lo, hi, alpha, beta in self._pieces(start, limit):
            if abs(beta) < 1e-12:
                needed = (hi - lo) / (k * alpha)
                if left < needed:
                    return lo + k * alpha * left
            else:
                c = alpha / beta
                needed = math.log((hi + c) / (lo + c)) / (k * beta)
                if left < needed:
                    return min(hi, (lo + c) * math.exp(k * beta * left) - c)
            left -= needed
            soc = hi
        return min(soc, limit)


# --- trips ----------------------------------------------------------------------------------

#: Speed swings ±20 % around the trip's average with a period of about nine minutes: traffic.
SPEED_SWING = 0.2
SWING_PERIOD_H = 0.15
_OMEGA = 2 * math.pi / SWING_PERIOD_H


def speed_at(average_kph: float, phase: float, hours: float) -> float:
    return average_kph * (1.0 + SPEED_SWING * math.sin(_OMEGA * hours + phase))


def distance_after(average_kph: float, phase: float, hours: float) -> float:
    """Kilometres covered after ``hours``: the integral of :func:`speed_at`."""
    swing = SPEED_SWING * average_kph / _OMEGA
    return average_kph * hours + swing * (math.cos(phase) - math.cos(_OMEGA * hours + phase))


def hours_to_cover(average_kph: float, phase: float, km: float) -> float:
    """The time at which :func:`distance_after` reaches ``km`` (it only ever grows)."""
    if km <= 0:
        return 0.0
    low = km / (average_kph * (1 + SPEED_SWING))
    high = km / (average_kph * (1 - SPEED_SWING))
    hours = km / average_kph
    for _ in range(60):
        error = distance_after(average_kph, phase, hours) - km
        if error > 0:
            high = hours
        else:
            low = hours
        if abs(error) < 1e-9:
            break
        step = hours - error / speed_at(average_kph, phase, hours)
        # Newton while it stays inside the bracket, bisection otherwise.
        hours = step if low < step < high else (low + high) / 2
    return hours


def consumption_factor(speed_kph: float) -> float:
    """How much more than the rated consumption a car uses at a speed (aero drag grows with v²)."""
    return 0.8 + 0.2 * (speed_kph / 70.0) ** 2
