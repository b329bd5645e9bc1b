"""A discrete-event simulation of an outbound campaign that drives the same pacers the engine ships.

`scenario` holds the parameters, `leads` pre-draws every lead's fate (common random numbers), `engine` runs
agents, trunks and calls in virtual time, `baselines` re-implements other dialers' published methods,
`dialers` names every dialer the simulator can run, and `metrics` measures the result by the regulation's own
windows.
"""

from teleplex.campaigns.simulation.dialers import DialerKind, DialerSpec
from teleplex.campaigns.simulation.engine import simulate
from teleplex.campaigns.simulation.metrics import DialerResult
from teleplex.campaigns.simulation.scenario import DialerScenario

__all__ = ["DialerKind", "DialerResult", "DialerScenario", "DialerSpec", "simulate"]
