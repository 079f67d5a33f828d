"""How each maker's cloud carries out remote commands: latency, and what it does with a sleeping car.

Real connected cars differ here. Some makers wake a sleeping car with a text message and run the
command once it is up (tens of seconds, so the API answers ``202`` and the result comes later);
others refuse while the car sleeps (``VEHICLE_STATE``/``ASLEEP``). An awake car carries a command
out in a few seconds. All of it is drawn from the vehicle's seed and the instant, so a run can be
reproduced."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .catalogue import ModelSpec


@dataclass(frozen=True, slots=True)
class RemotePolicy:
    #: Whether the maker wakes a sleeping car for a command (else the command is refused).
    wakes_for_commands: bool
    #: How long waking a sleeping car takes, in milliseconds.
    wake_ms: int
    #: The range of how long an awake car takes to carry a command out, in milliseconds.
    latency_ms: tuple[int, int]


DEFAULT_POLICY = RemotePolicy(wakes_for_commands=True, wake_ms=45_000, latency_ms=(2_000, 8_000))

POLICIES: dict[str, RemotePolicy] = {
    "TESLA": RemotePolicy(True, 20_000, (1_000, 3_000)),
    "RIVIAN": RemotePolicy(True, 25_000, (1_000, 4_000)),
    "FORD": RemotePolicy(True, 40_000, (3_000, 10_000)),
    "CHEVROLET": RemotePolicy(True, 60_000, (5_000, 15_000)),
    # These makers' clouds answer "asleep" rather than waking the car for a command.
    "TOYOTA": RemotePolicy(False, 0, (4_000, 12_000)),
    "MITSUBISHI": RemotePolicy(False, 0, (5_000, 15_000)),
}


def policy_for(spec: ModelSpec) -> RemotePolicy:
    return POLICIES.get(spec.make, DEFAULT_POLICY)


def command_latency_ms(spec: ModelSpec, seed: int, at_ms: int) -> int:
    """How long this car takes to carry out a command sent at ``at_ms`` (awake)."""
    low, high = policy_for(spec).latency_ms
    return random.Random(seed ^ at_ms).randint(low, high)
