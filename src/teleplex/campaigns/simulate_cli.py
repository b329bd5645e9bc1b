"""`teleplex simulate dialer`: run the dialer simulator from the command line (no database, no Asterisk)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from teleplex.campaigns.simulation import DialerKind, DialerScenario, DialerSpec, simulate

simulate_app = typer.Typer(help="Discrete-event simulations that drive Teleplex's own pacing code.")

_COLUMNS = [
    ("dialer", "dialer", "{}"),
    ("occupancy", "talk occ.", "{:.3f}"),
    ("utilisation", "util.", "{:.3f}"),
    ("abandon_worst_24h", "worst 24h", "{:.2%}"),
    ("abandon_worst_30d", "worst 30d", "{:.2%}"),
    ("contacts_per_agent_hour", "contacts/agent-h", "{:.1f}"),
    ("agent_idle_mean_s", "idle mean s", "{:.1f}"),
    ("agent_idle_p95_s", "idle p95 s", "{:.0f}"),
    ("answer_to_agent_p50_s", "wait p50 s", "{:.2f}"),
    ("answer_to_agent_p95_s", "wait p95 s", "{:.2f}"),
]


@simulate_app.command("dialer")
def dialer(
    agents: Annotated[int, typer.Option(min=1, help="Agents logged in for the shift.")] = 10,
    answer_probability: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="A person answers, per dial.")
    ] = 0.2,
    machine_probability: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="A machine answers, per dial.")
    ] = 0.05,
    ring_median: Annotated[
        float, typer.Option(min=1.0, help="Median seconds before a person answers.")
    ] = 9.0,
    talk_mean: Annotated[
        float, typer.Option(min=5.0, help="Mean talk time, seconds (lognormal + short calls).")
    ] = 180.0,
    wrapup_min: Annotated[float, typer.Option(min=0.0, help="Shortest wrap-up, seconds.")] = 20.0,
    wrapup_max: Annotated[float, typer.Option(min=0.0, help="Longest wrap-up, seconds.")] = 40.0,
    amd: Annotated[bool, typer.Option(help="Answering-machine detection on.")] = False,
    amd_false_positives: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="People AMD hangs up on.")
    ] = 0.01,
    amd_accuracy: Annotated[float, typer.Option(min=0.0, max=1.0, help="Machines AMD recognises.")] = 0.9,
    shift_hours: Annotated[float, typer.Option(min=0.1, help="Length of each day's shift.")] = 8.0,
    days: Annotated[int, typer.Option(min=1, help="Shifts to simulate, one per day.")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same result.")] = 1,
    dialers: Annotated[
        list[str] | None,
        typer.Option("--dialer", help="Dialers to run (repeat the option); default: all of them."),
    ] = None,
    power_ratio: Annotated[
        float, typer.Option(min=1.0, help="Calls per free agent for the power dialer.")
    ] = 1.5,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per dialer instead of a table.")
    ] = False,
) -> None:
    """Simulate an outbound campaign with each dialer on the same leads, and print what each achieved."""
    if wrapup_max < wrapup_min:
        raise typer.BadParameter("--wrapup-max must be at least --wrapup-min")
    known = {k.value: k for k in DialerKind}
    names = dialers or list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise typer.BadParameter(f"unknown dialer {unknown[0]!r}; choose from {', '.join(known)}")
    scenario = DialerScenario(
        agents=agents,
        human_answer_probability=answer_probability,
        machine_probability=machine_probability,
        human_ring_median_seconds=ring_median,
        talk_mean_seconds=talk_mean,
        wrapup_min_seconds=wrapup_min,
        wrapup_max_seconds=wrapup_max,
        amd_enabled=amd,
        amd_false_positive_rate=amd_false_positives,
        amd_machine_detection=amd_accuracy,
        shift_hours=shift_hours,
        days=days,
        seed=seed,
    )
    rows = [simulate(scenario, DialerSpec(known[name], power_ratio)).summary() for name in names]
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    typer.echo(
        f"{agents} agents, {days} × {shift_hours:g} h, answer {answer_probability:g}, machines "
        f"{machine_probability:g}, talk mean {talk_mean:g} s, AMD {'on' if amd else 'off'}, seed {seed}"
    )
    widths = [max(len(title), 9) for _, title, _ in _COLUMNS]
    widths[0] = max(widths[0], *(len(str(r["dialer"])) for r in rows))
    typer.echo("  ".join(title.rjust(w) for (_, title, _), w in zip(_COLUMNS, widths, strict=True)))
    for row in rows:
        cells = [fmt.format(row[key]) for key, _, fmt in _COLUMNS]
        typer.echo("  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))
