"""What one password check costs: argon2id verification with Hexagone's own parameters
(``hexagone.core.security``) and, for comparison, RFC 9106's second recommended option (the
former default) and the five configurations of OWASP's Password Storage Cheat Sheet, which
it calls equally strong (the last is also Keycloak's default), as CPU and wall time per
verification and the logins per second one core could sustain.

    .venv/bin/python bench/argon2_cost.py [--repeat 10]

A login is one verification plus a few queries, so the first line bounds the login rate.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from argon2 import PasswordHasher

from hexagone.core import security

KEYCLOAK_LOGINS_PER_VCPU = 15.0

PROFILES = [
    ("RFC 9106 second choice (t=3, 64 MiB, p=4)", PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)),
    ("same, one lane (t=3, 64 MiB, p=1)", PasswordHasher(time_cost=3, memory_cost=65536, parallelism=1)),
    ("OWASP 1 (t=1, 46 MiB, p=1)", PasswordHasher(time_cost=1, memory_cost=47104, parallelism=1)),
    ("OWASP 2 (t=2, 19 MiB, p=1)", PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)),
    ("OWASP 3 (t=3, 12 MiB, p=1)", PasswordHasher(time_cost=3, memory_cost=12288, parallelism=1)),
    ("OWASP 4 (t=4, 9 MiB, p=1)", PasswordHasher(time_cost=4, memory_cost=9216, parallelism=1)),
    ("OWASP 5, Keycloak's default (t=5, 7 MiB, p=1)", PasswordHasher(time_cost=5, memory_cost=7168, parallelism=1)),
]


PASSWORD = "correct horse battery staple"


def cost(verify: Callable[[str, str], object], stored: str, repeat: int) -> tuple[float, float]:
    verify(stored, PASSWORD)
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        verify(stored, PASSWORD)
        cpu.append(1000 * (time.process_time() - c))
        wall.append(1000 * (time.perf_counter() - w))
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=10)
    args = p.parse_args()
    ours = security.hash_password(PASSWORD)  # the code path a login takes, with its parameters
    params = ours.split("$")[3]
    rows: list[tuple[str, Callable[[str, str], object], str]] = [
        (f"Hexagone's ({params})", security.verify_password, ours),
        *[(label, hasher.verify, hasher.hash(PASSWORD)) for label, hasher in PROFILES],
    ]
    print("| argon2id parameters | CPU ms per check | wall ms per check | checks/s per core | ÷ Keycloak's 15 |")
    print("|---|---:|---:|---:|---:|")
    for label, verify, stored in rows:
        cpu, wall = cost(verify, stored, args.repeat)
        per_core = 1000 / cpu
        print(
            f"| {label} | {cpu:.0f} | {wall:.0f} | {per_core:.1f} | {per_core / KEYCLOAK_LOGINS_PER_VCPU:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
