"""The dialers the simulator can run, by name, and how to build a fresh pacer for each run."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from teleplex.campaigns.pacing import (
    Pacer,
    PowerPacer,
    PredictivePacer,
    PredictiveSettings,
    PreviewPacer,
    ProgressivePacer,
)
from teleplex.campaigns.simulation.baselines import DropLimitVariant, IssabelPacer, VicidialAdaptivePacer
from teleplex.campaigns.simulation.scenario import DialerScenario


class DialerKind(Enum):
    """A dialer to simulate: Teleplex's modes, the baselines, and the clairvoyant bound."""

    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    POWER = "power"
    VICIDIAL_HARD = "vicidial-hard"
    VICIDIAL_TAPERED = "vicidial-tapered"
    ISSABEL = "issabel"
    TELEPLEX = "teleplex"
    ORACLE = "oracle"


@dataclass(frozen=True, slots=True)
class DialerSpec:
    """A dialer and its one knob (the power ratio)."""

    kind: DialerKind
    power_ratio: float = 1.5

    @property
    def label(self) -> str:
        if self.kind is DialerKind.POWER:
            return f"power×{self.power_ratio:g}"
        return self.kind.value

    def build(self, scenario: DialerScenario) -> Pacer | None:
        """A fresh pacer for one run; None for the oracle, which the engine drives itself."""
        kind = self.kind
        if kind is DialerKind.PREVIEW:
            return PreviewPacer()
        if kind is DialerKind.PROGRESSIVE:
            return ProgressivePacer()
        if kind is DialerKind.POWER:
            return PowerPacer(ratio=self.power_ratio)
        if kind is DialerKind.VICIDIAL_HARD:
            return VicidialAdaptivePacer(DropLimitVariant.HARD_LIMIT)
        if kind is DialerKind.VICIDIAL_TAPERED:
            return VicidialAdaptivePacer(DropLimitVariant.TAPERED)
        if kind is DialerKind.ISSABEL:
            return IssabelPacer()
        if kind is DialerKind.TELEPLEX:
            # The operator states whether AMD runs and its measured false-positive rate; nothing else is given.
            fp = scenario.amd_false_positive_rate if scenario.amd_enabled else 0.0
            return PredictivePacer(PredictiveSettings(amd_false_positive_rate=fp))
        return None
