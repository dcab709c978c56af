"""The timeline of one users-per-box run, shared by the driver (``run.py``) and the
scenario (``locustfile.py``, in every Locust process): for each step, a ramp to that many
users at the spawn rate followed by a settling time, then a hold during which the step is
measured. Every process reads the same clock (the machine's), from the same start time, so
that a request is filed under the phase it happened in by whoever makes it."""

from __future__ import annotations

import os
from dataclasses import dataclass

SEPARATOR = " | "  # between a phase's label and the request's name, in Locust's statistics


@dataclass(frozen=True)
class Phase:
    label: str  # "ramp 500" or "500 users"
    users: int
    start: float  # seconds from the run's start
    end: float
    hold: bool  # measured


@dataclass(frozen=True)
class Plan:
    steps: tuple[int, ...]
    spawn_rate: float  # users per second
    settle: float  # seconds after a ramp before the hold
    hold: float  # seconds measured at each step

    @property
    def phases(self) -> list[Phase]:
        phases, t, previous = [], 0.0, 0
        for users in self.steps:
            ramp = max(users - previous, 0) / self.spawn_rate + self.settle
            phases.append(Phase(f"ramp {users}", users, t, t + ramp, False))
            t += ramp
            phases.append(Phase(f"{users} users", users, t, t + self.hold, True))
            t += self.hold
            previous = users
        return phases

    @property
    def seconds(self) -> float:
        return self.phases[-1].end

    def at(self, t: float) -> Phase | None:
        """The phase at ``t`` seconds from the start (the first one before it); None after the end."""
        for phase in self.phases:
            if t < phase.end:
                return phase
        return None

    def env(self) -> dict[str, str]:
        return {
            "HEXBENCH_STEPS": ",".join(map(str, self.steps)),
            "HEXBENCH_SPAWN_RATE": str(self.spawn_rate),
            "HEXBENCH_SETTLE": str(self.settle),
            "HEXBENCH_HOLD": str(self.hold),
        }

    @classmethod
    def from_env(cls) -> Plan:
        return cls(
            tuple(int(n) for n in os.environ["HEXBENCH_STEPS"].split(",")),
            float(os.environ["HEXBENCH_SPAWN_RATE"]),
            float(os.environ["HEXBENCH_SETTLE"]),
            float(os.environ["HEXBENCH_HOLD"]),
        )


def split_name(name: str) -> tuple[str, str]:
    """(phase label, request name) of a name in Locust's statistics."""
    label, _sep, request = name.partition(SEPARATOR)
    return (label, request) if request else ("", name)
