"""The table of `bench-compare.sh`: each figure of each round, base / other."""
import json
import sys
from pathlib import Path

work, rounds, base, other = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]


def report(label, round_):
    return json.loads((work / f"{label}-{round_}.json").read_text())


def cpu(step):
    return next(g["cpu_ms_per_checkout"] for g in step["cpu"]["groups"] if g["group"] == "total")


def step_at(rep, clients):
    return next(s for s in rep["saga"]["steps"] if s["concurrency"] == clients)


ROWS = [
    ("checkouts/s at 8 clients", lambda r: step_at(r, 8)["committed_per_sec"], "{:.1f}"),
    ("p50 at 8 clients, ms", lambda r: step_at(r, 8)["latency"]["p50_ms"], "{:.1f}"),
    ("CPU-ms per checkout at 8 clients", lambda r: cpu(step_at(r, 8)), "{:.2f}"),
    ("peak checkouts/s", lambda r: r["best"]["committed_per_sec"], "{:.1f}"),
    ("open loop at half the peak: p99, ms", lambda r: r["half_peak"]["latency"]["p99_ms"], "{:.1f}"),
    ("monolith, best step", lambda r: r["monolith"]["best"]["committed_per_sec"], "{:.0f}"),
    ("ratio saga/monolith", lambda r: r["ratio"], "{:.2f}"),
]

print(f"| figure | {base} (base), rounds 1..{rounds} | {other}, rounds 1..{rounds} |")
print("|---|---|---|")
for name, figure, form in ROWS:
    cells = [
        " / ".join(form.format(figure(report(label, n))) for n in range(1, rounds + 1))
        for label in ("base", "other")
    ]
    print(f"| {name} | {cells[0]} | {cells[1]} |")
