"""An application's simulated clock (DESIGN.md §6): real time, accelerated, or frozen and stepped.

Simulated time is a linear function of real time, ``sim = anchor_sim + rate · (real − anchor_real)``;
``rate`` 1 is real time, 60 makes an hour pass in a minute, 0 freezes it. Changing the rate or
stepping re-anchors at the current instant, so simulated time never jumps backwards. The record
is tiny and JSON-friendly, so the platform can keep one per application and any process can
compute the same "now"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_RATE = 10_000.0


@dataclass(frozen=True, slots=True)
class Clock:
    anchor_real_ms: int
    anchor_sim_ms: int
    rate: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= MAX_RATE:
            raise ValueError(f"A clock runs at a rate from 0 (frozen) to {MAX_RATE:g}.")

    @classmethod
    def real_time(cls, real_ms: int) -> Clock:
        return cls(real_ms, real_ms, 1.0)

    @property
    def frozen(self) -> bool:
        return self.rate == 0.0

    def now(self, real_ms: int) -> int:
        """Simulated epoch milliseconds at a real instant (never before the anchor)."""
        elapsed = max(0, real_ms - self.anchor_real_ms)
        return self.anchor_sim_ms + int(elapsed * self.rate)

    def with_rate(self, rate: float, real_ms: int) -> Clock:
        """Run at another rate from now on (0 freezes the clock where it stands)."""
        return Clock(real_ms, self.now(real_ms), float(rate))

    def advanced(self, by_ms: int, real_ms: int) -> Clock:
        """Step simulated time forward by hand, keeping the rate."""
        if by_ms < 0:
            raise ValueError("A clock only moves forward.")
        return Clock(real_ms, self.now(real_ms) + by_ms, self.rate)

    def set_to(self, sim_ms: int, real_ms: int) -> Clock:
        """Jump to a simulated instant that is not earlier than the clock's now."""
        return self.advanced(sim_ms - self.now(real_ms), real_ms)

    def to_dict(self) -> dict[str, Any]:
        return {"anchorRealMs": self.anchor_real_ms, "anchorSimMs": self.anchor_sim_ms, "rate": self.rate}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Clock:
        return cls(int(data["anchorRealMs"]), int(data["anchorSimMs"]), float(data["rate"]))
