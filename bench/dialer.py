#!/usr/bin/env python3
"""Dialer benchmark: Teleplex's predictive pacer side by side with the usual dialers, in one simulator.

Every dialer runs the same discrete-event simulation (`teleplex.campaigns.simulation`) on the same leads:
common random numbers, each lead's outcome, ring, talk and wrap-up times are drawn in advance from a stream
seeded by the scenario, so every dialer meets the same list. Scenarios: team size × human-answer probability ×
talk-time mean × AMD (off / on with 1 % false positives); machines are 20 % of answers; wrap-up 20–40 s.

Dialers: preview, progressive, power at the best fixed ratio found offline for the scenario (the largest
ratio on a grid whose worst 24-hour abandonment stays ≤ 3 % on every seed — tuned on the very seeds it is
scored on, so an optimistic bound), VICIdial-style adaptive (hard-limit and tapered), Issabel-style, Teleplex
predictive (one configuration everywhere), and the clairvoyant oracle.

    .venv/bin/python bench/dialer.py --quick      # 6 scenarios, 2 seeds, 2 days: under two minutes on 2 cores
    .venv/bin/python bench/dialer.py              # 36 scenarios, 10 seeds, 30 days (hours)
    .venv/bin/python bench/dialer.py --results bench/results/dialer --workers 1   # the same, resumable

`--results DIR` stores each (scenario, seed)'s results in DIR, keyed by the simulator's source code and the
run's parameters, and reuses them on a later run: the full run can be done in pieces and re-printed;
`--status` says what is stored.

Prints a table per scenario, then one JSON line. A run of all 36 scenarios also draws
docs/images/dialer-occupancy.png (needs the `bench` extra: pip install -e '.[bench]'); `--plot PATH` draws any
run, `--plot ''` none.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import statistics
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from teleplex.campaigns.simulation import DialerKind, DialerResult, DialerScenario, DialerSpec, simulate
from teleplex.campaigns.simulation.store import ResultStore

TARGET = 0.03
PLOT = Path(__file__).resolve().parents[1] / "docs" / "images" / "dialer-occupancy.png"
RATIOS = [1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0]
ORDER = [
    "preview",
    "progressive",
    "power",
    "vicidial-hard",
    "vicidial-tapered",
    "issabel",
    "teleplex",
    "oracle",
]


@dataclass(frozen=True)
class Case:
    """One scenario and the seeds to run it on."""

    name: str
    scenario: DialerScenario
    seeds: tuple[int, ...]


def scenario(agents: int, human: float, talk: float, amd: bool, days: int) -> DialerScenario:
    return DialerScenario(
        agents=agents,
        human_answer_probability=human,
        machine_probability=human * 0.25,  # machines are 20 % of answers
        talk_mean_seconds=talk,
        amd_enabled=amd,
        amd_false_positive_rate=0.01,
        days=days,
    )


def cases(quick: bool, seeds: int, days: int) -> list[Case]:
    if quick:
        grid = [
            (5, 0.10, 300, False),
            (5, 0.20, 90, False),
            (5, 0.35, 90, True),
            (25, 0.10, 300, False),
            (25, 0.20, 300, True),
            (25, 0.35, 90, False),
        ]
    else:
        grid = [
            (a, h, t, amd)
            for a in (5, 25, 100)
            for h in (0.10, 0.20, 0.35)
            for t in (90, 300)
            for amd in (False, True)
        ]
    out = []
    for agents, human, talk, amd in grid:
        name = f"{agents}a p{human:.2f} t{talk} amd-{'on' if amd else 'off'}"
        out.append(Case(name, scenario(agents, human, talk, amd, days), tuple(range(1, seeds + 1))))
    return out


def cost(case: Case) -> float:
    """A rough share of the work, to start the heaviest scenarios first."""
    s = case.scenario
    return s.agents * (1.0 + 1.0 / s.human_answer_probability) * (1.0 + 90.0 / s.talk_mean_seconds)


def run_one(case: Case, seed: int, spec: DialerSpec, store: ResultStore | None) -> DialerResult:
    """One dialer on one seed, from the results folder when it is there (`--results`)."""
    scenario = case.scenario.with_seed(seed)
    return store.simulate(scenario, spec, case.name) if store else simulate(scenario, spec)


def run_seeds(case: Case, spec: DialerSpec, store: ResultStore | None = None) -> list[DialerResult]:
    return [run_one(case, seed, spec, store) for seed in case.seeds]


def best_power_ratio(
    case: Case, progressive: list[DialerResult], store: ResultStore | None = None
) -> tuple[float, list[DialerResult]]:
    """The largest grid ratio whose worst 24-hour abandonment stays ≤ target on every seed (binary search;
    abandonment grows with the ratio). Ratio 1.0 is progressive, already run."""
    lo, hi = 0, len(RATIOS) - 1
    best = (RATIOS[0], [replace(r, dialer="power") for r in progressive])
    while lo < hi:
        mid = (lo + hi + 1) // 2
        results = run_seeds(case, DialerSpec(DialerKind.POWER, RATIOS[mid]), store)
        if max(r.worst_abandon_24h for r in results) <= TARGET:
            lo = mid
            best = (RATIOS[mid], results)
        else:
            hi = mid - 1
    return best


def run_case(case: Case, store: ResultStore | None = None) -> dict:
    """Every dialer on every seed, seed by seed (so a stopped run with `--results` keeps whole seeds), then
    the power ratio search over all seeds."""
    started = time.monotonic()
    per_dialer: dict[str, list[DialerResult]] = {k.value: [] for k in DialerKind if k is not DialerKind.POWER}
    for seed in case.seeds:
        for kind in DialerKind:
            if kind is not DialerKind.POWER:
                per_dialer[kind.value].append(run_one(case, seed, DialerSpec(kind), store))
    ratio, power = best_power_ratio(case, per_dialer["progressive"], store)
    per_dialer["power"] = power
    rows = {}
    for name, results in per_dialer.items():
        rows[name] = {
            "occupancy": statistics.fmean(r.occupancy for r in results),
            "utilisation": statistics.fmean(r.utilisation for r in results),
            "worst_24h": max(r.worst_abandon_24h for r in results),
            "worst_30d": max(r.worst_abandon_30d for r in results),
            "contacts_per_agent_hour": statistics.fmean(r.contacts_per_agent_hour for r in results),
            "idle_mean_s": statistics.fmean(r.agent_idle.mean for r in results),
            "wait_p50_s": statistics.fmean(r.customer_wait.percentile(0.5) for r in results),
            "wait_p95_s": statistics.fmean(r.customer_wait.percentile(0.95) for r in results),
        }
    low, high = rows["progressive"]["occupancy"], rows["oracle"]["occupancy"]
    for row in rows.values():
        row["efficiency"] = (row["occupancy"] - low) / (high - low) if high > low else 0.0
    return {"name": case.name, "power_ratio": ratio, "rows": rows, "seconds": time.monotonic() - started}


def print_status(todo: list[Case], store: ResultStore) -> None:
    """Per scenario, the seeds whose every dialer (but the power search) is in the results folder, and the
    CPU time stored for them (power search runs included): what is left of a run done in pieces."""
    fixed = [DialerSpec(kind) for kind in DialerKind if kind is not DialerKind.POWER]
    done_total = 0
    for case in todo:
        done, cpu = 0, []
        for seed in case.seeds:
            scenario = case.scenario.with_seed(seed)
            if all(store.load(scenario, spec, case.name) for spec in fixed):
                done += 1
                cpu.append(sum(store.cpu_seconds(scenario, case.name).values()))
        done_total += done
        per_seed = f"; {statistics.fmean(cpu):.0f} CPU-s per seed" if cpu else ""
        print(f"{case.name}: {done}/{len(case.seeds)} seeds{per_seed}")
    print(f"# {done_total} of {sum(len(c.seeds) for c in todo)} (scenario, seed) pairs stored")


def print_case(result: dict) -> None:
    print(f"\n### {result['name']}  (best fixed ratio {result['power_ratio']:g}; {result['seconds']:.0f} s)")
    print(
        "| dialer | occupancy | utilisation | worst 24 h | worst 30 d | efficiency | contacts/agent-h "
        "| agent idle mean s | wait p50 s | wait p95 s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in ORDER:
        r = result["rows"][name]
        print(
            f"| {name} | {r['occupancy']:.3f} | {r['utilisation']:.3f} | {100 * r['worst_24h']:.2f} % "
            f"| {100 * r['worst_30d']:.2f} % | {r['efficiency']:+.2f} | {r['contacts_per_agent_hour']:.1f} "
            f"| {r['idle_mean_s']:.0f} | {r['wait_p50_s']:.2f} | {r['wait_p95_s']:.2f} |"
        )
    sys.stdout.flush()


def summarise(results: list[dict], args: argparse.Namespace, elapsed: float) -> dict:
    tele = [r["rows"]["teleplex"] for r in results]
    return {
        "bench": "dialer",
        "mode": "quick" if args.quick else "full",
        "scenarios": len(results),
        "seeds": args.seeds,
        "days": args.days,
        "worst_abandon_24h": round(max(t["worst_24h"] for t in tele), 4),
        "worst_abandon_30d": round(max(t["worst_30d"] for t in tele), 4),
        "worst_abandon_24h_amd_off": round(
            max((r["rows"]["teleplex"]["worst_24h"] for r in results if "amd-off" in r["name"]), default=0.0),
            4,
        ),
        "scenarios_over_target": sum(t["worst_24h"] > TARGET for t in tele),
        # AMD false positives alone can push a small team's window over 3 % (preview and progressive too):
        "scenarios_over_target_where_progressive_is_not": sum(
            r["rows"]["teleplex"]["worst_24h"] > TARGET >= r["rows"]["progressive"]["worst_24h"]
            for r in results
        ),
        # Teleplex's occupancy divided by the best fixed ratio's, lowest over scenarios (1.0 = level)
        "min_occupancy_vs_best_ratio": round(
            min(r["rows"]["teleplex"]["occupancy"] / max(r["rows"]["power"]["occupancy"], 1e-9) for r in results), 4
        ),
        "scenarios_beating_best_ratio": sum(
            r["rows"]["teleplex"]["occupancy"] >= r["rows"]["power"]["occupancy"] for r in results
        ),
        "scenarios_beating_vicidial": sum(
            r["rows"]["teleplex"]["occupancy"]
            > max(r["rows"]["vicidial-hard"]["occupancy"], r["rows"]["vicidial-tapered"]["occupancy"])
            for r in results
        ),
        "mean_efficiency": round(statistics.fmean(t["efficiency"] for t in tele), 3),
        "mean_occupancy": {
            name: round(statistics.fmean(r["rows"][name]["occupancy"] for r in results), 4) for name in ORDER
        },
        "seconds": round(elapsed, 1),
        "machine": f"{platform.machine()} {multiprocessing.cpu_count()} vCPU, Python {platform.python_version()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


STYLE = {  # dialer: (colour, marker), the same in both panels
    "preview": ("#bbbbbb", "v"),
    "progressive": ("#888888", "o"),
    "power": ("#1f77b4", "s"),
    "vicidial-hard": ("#ff7f0e", "<"),
    "vicidial-tapered": ("#ffbb78", ">"),
    "issabel": ("#9467bd", "x"),
    "teleplex": ("#d62728", "D"),
    "oracle": ("#2ca02c", "_"),
}


def plot(results: list[dict], args: argparse.Namespace, path: Path) -> None:
    """Occupancy per scenario for every dialer; below, Teleplex's worst 24-hour window against the target."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"# no plot: matplotlib is missing (pip install -e '.[bench]'): {path}", file=sys.stderr)
        return
    order = {c.name: i for i, c in enumerate(cases(False, 1, 1))}
    ordered = sorted(results, key=lambda r: order.get(r["name"], len(order)))
    names = [r["name"] for r in ordered]
    x = range(len(names))
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(max(8.0, 0.42 * len(names) + 2.0), 9.0), sharex=True, height_ratios=[3, 2]
    )
    for dialer in ORDER:
        colour, marker = STYLE[dialer]
        label = "power (best fixed ratio, tuned offline)" if dialer == "power" else dialer
        top.plot(
            x, [r["rows"][dialer]["occupancy"] for r in ordered], marker=marker, color=colour, label=label,
            linestyle="none", markersize=7 if dialer == "teleplex" else 5,
            zorder=3 if dialer == "teleplex" else 2,
        )
    top.set_ylabel("talk occupancy (talk ÷ logged-in time)")
    top.set_ylim(0.0, 1.0)
    top.grid(axis="y", alpha=0.3)
    top.legend(ncol=4, fontsize=8, loc="lower right")
    top.set_title(
        f"Dialer benchmark: {len(names)} scenarios × {args.seeds} seeds × {args.days} days "
        "(occupancy: mean over seeds; abandonment: worst window over seeds)",
        fontsize=10,
    )
    tele = [100 * r["rows"]["teleplex"]["worst_24h"] for r in ordered]
    prog = [100 * r["rows"]["progressive"]["worst_24h"] for r in ordered]
    colours = [STYLE["teleplex"][0] if "amd-off" in n else "#f4a6a6" for n in names]
    bottom.bar(x, tele, color=colours, label="Teleplex worst 24-hour window (light: AMD on)")
    bottom.plot(
        x, prog, linestyle="none", marker="_", markersize=12, color="black",
        label="progressive's worst 24-hour window (AMD false positives only)",
    )
    bottom.axhline(100 * TARGET, color="black", linestyle="--", linewidth=1.0, label="3 % target")
    bottom.set_ylabel("abandoned ÷ live answers, %")
    bottom.set_ylim(0.0, max(4.0, max(tele + prog) * 1.15))
    bottom.grid(axis="y", alpha=0.3)
    bottom.legend(fontsize=8, loc="upper left")
    bottom.set_xticks(list(x))
    bottom.set_xticklabels(names, rotation=90, fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"# plot written to {path}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="6 scenarios, 2 seeds, 2 days")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per scenario (10; quick: 2)")
    parser.add_argument("--days", type=int, default=None, help="simulated 8-hour shifts (30; quick: 2)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument(
        "--only", default=None, help="run only scenarios whose name contains this text from a word's start"
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help="keep every (scenario, seed) result in this folder and reuse those made by the same code "
        "(e.g. bench/results/dialer)",
    )
    parser.add_argument(
        "--status", action="store_true", help="with --results: say which seeds are stored, simulate nothing"
    )
    parser.add_argument(
        "--plot", default=None, help=f"draw the figures to this PNG ('' for none; all 36 scenarios: {PLOT})"
    )
    args = parser.parse_args()
    if args.status and not args.results:
        parser.error("--status reads the results folder: give --results DIR")
    args.seeds = args.seeds or (2 if args.quick else 10)
    args.days = args.days or (2 if args.quick else 30)
    todo = cases(args.quick, args.seeds, args.days)
    if args.only:
        todo = [c for c in todo if f" {args.only}" in f" {c.name}"]  # from a word's start: "5a " is not "25a "
    started = time.monotonic()
    print(f"# dialer benchmark: {len(todo)} scenarios × {args.seeds} seeds × {args.days} days", flush=True)
    store = ResultStore(args.results) if args.results else None
    if store:
        print(f"# results folder: {args.results} (code {store.code[:12]})", flush=True)
        if args.status:
            print_status(todo, store)
            return
    results: list[dict] = []
    if args.workers > 1:
        with multiprocessing.Pool(args.workers) as pool:
            heavy_first = sorted(todo, key=cost, reverse=True)
            for result in pool.imap_unordered(partial(run_case, store=store), heavy_first):
                print_case(result)
                results.append(result)
    else:
        for case in todo:
            result = run_case(case, store)
            print_case(result)
            results.append(result)
    print()
    print(json.dumps(summarise(results, args, time.monotonic() - started)))
    target = args.plot if args.plot is not None else (str(PLOT) if not args.quick and not args.only else "")
    if target:
        plot(results, args, Path(target))


if __name__ == "__main__":
    main()
