"""The users-per-box chart: users (x) against the p95 of the web requests (y), one line per
database, the 500 ms target drawn across, and the steps that failed marked. Drawn from the
JSON that ``run.py`` writes (it calls :func:`draw` itself); redraw with

    .venv/bin/python bench/users/chart.py docs/users-per-box.json docs/users-per-box.svg
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

TARGET_MS = 500.0  # run.P95_TARGET_MS
GOAL_USERS = 2000  # issue 15


def draw(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "hexagone"  # the same figures give the same file
    plt.rcParams["svg.fonttype"] = "none"  # text stays text: a small file, searchable
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    top = TARGET_MS * 2
    for database, result in sorted(results.items()):
        steps = result["steps"]
        if not steps:
            continue
        users = [s["users"] for s in steps]
        p95 = [s["p95_ms"] for s in steps]
        top = max(top, *p95)
        (line,) = ax.plot(
            users,
            p95,
            marker="o",
            label=f"{database}, {result['workers']} worker(s): {result['largest_passing']} users pass",
        )
        failed = [(s["users"], s["p95_ms"]) for s in steps if s["failures"]]
        if failed:
            ax.scatter(*zip(*failed, strict=True), marker="x", s=80, color=line.get_color(), zorder=3)
    ax.axhline(TARGET_MS, color="grey", linestyle="--", linewidth=1)
    ax.annotate("p95 target 500 ms", (0, TARGET_MS), xytext=(4, 4), textcoords="offset points", color="grey")
    ax.axvline(GOAL_USERS, color="grey", linestyle=":", linewidth=1)
    ax.set_ylim(10, top * 2)
    ax.annotate(
        "goal: 2,000 users",
        (GOAL_USERS, top * 2),
        xytext=(-4, -14),
        textcoords="offset points",
        color="grey",
        ha="right",
    )
    ax.set_xlim(0, max(GOAL_USERS * 1.05, *(s["users"] for r in results.values() for s in r["steps"])))
    ax.set_yscale("log")
    ax.set_xlabel("simulated users (think time 5–15 s, one IMAP IDLE connection each)")
    ax.set_ylabel("p95 of the web requests, ms (log scale)")
    ax.set_title("Users per box: Hexagone on 2 vCPUs (× = a step with errors)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    draw(json.loads(source.read_text()), target)


if __name__ == "__main__":
    main()
