"""The abandonment risk of one more call: the probability that, if it is answered, no agent is left for it.

Pure arithmetic on two counts: agents available when the new call would be answered (the ready ones plus
busy ones that free in time, each with its own probability) and answered calls that will compete for them
(calls already ringing and the other new ones, each answered with the same probability).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

_NORMAL_VARIANCE = 9.0  # binomials wider than this are approximated by a normal
_EXACT_LIMIT = 40  # beyond this many uncertain agents, a normal approximation is close and much cheaper


def freed_agents_pmf(probabilities: Sequence[float]) -> list[float]:
    """The distribution of how many of the busy agents free in time (a Poisson-binomial), as a list."""
    certain = 0
    uncertain: list[float] = []
    for q in probabilities:
        if q >= 0.9999:
            certain += 1
        elif q > 1e-4:
            uncertain.append(q)
    if len(uncertain) <= _EXACT_LIMIT:
        pmf = [1.0]
        for q in uncertain:
            # slot i <- w[i] (1 - q) + w[i - 1] q, with zeros past both ends
            stay = 1.0 - q
            pmf = [a * stay + b * q for a, b in zip([*pmf, 0.0], [0.0, *pmf])]
    else:
        mean = sum(uncertain)
        var = sum(q * (1.0 - q) for q in uncertain)
        sd = math.sqrt(var)
        lo, hi = max(0, int(mean - 6 * sd)), min(len(uncertain), int(mean + 6 * sd) + 1)
        pmf = [0.0] * (hi + 1)
        for k in range(lo, hi + 1):
            pmf[k] = _normal_cdf((k + 0.5 - mean) / sd) - _normal_cdf((k - 0.5 - mean) / sd)
        total = sum(pmf)
        pmf = [w / total for w in pmf]
    return [0.0] * certain + pmf


def binomial_at_least(n: int, p: float, upto: int) -> list[float]:
    """P(Binomial(n, p) >= j) for j = 0..upto."""
    out = [1.0] * (upto + 1)
    if n <= 0 or p <= 0.0:
        return [1.0] + [0.0] * upto
    if p >= 1.0:
        return [1.0 if j <= n else 0.0 for j in range(upto + 1)]
    log_q = math.log1p(-p)
    log_ratio = math.log(p) - log_q
    log_term = n * log_q
    cumulative = 0.0
    for j in range(upto + 1):
        out[j] = max(0.0, 1.0 - cumulative)
        if j > n:
            out[j] = 0.0
            continue
        cumulative += math.exp(log_term)
        log_term += math.log((n - j) / (j + 1)) + log_ratio if j < n else 0.0
    return out


class CompetingAnswers:
    """How many answered calls will compete for the agents: calls already ringing, then each new one.

    Each call needs an agent with its own probability (a call that has rung a while without an answer is
    less likely to be answered). Kept exact (truncated at `upto`) while narrow, as a normal once wide.
    """

    def __init__(self, probabilities: Sequence[float], upto: int) -> None:
        self.upto = max(1, upto)
        self.mean = 0.0
        self.var = 0.0
        self.calls = 0
        self._pmf: list[float] | None = [1.0] + [0.0] * self.upto  # last slot: P(D >= upto)
        self._cumulative: list[float] | None = None  # P(D < j) for j = 0..upto, rebuilt after an add
        add = self.add
        for p in probabilities:
            add(p)

    def add(self, p: float) -> None:
        self.calls += 1
        self.mean += p
        self.var += p * (1.0 - p)
        if self._pmf is None:
            return
        if self.var >= _NORMAL_VARIANCE:
            self._pmf = None
            return
        self._cumulative = None
        pmf, top = self._pmf, self.upto
        tail = pmf[top] + pmf[top - 1] * p
        # pmf[j] <- pmf[j] (1 - p) + pmf[j - 1] p from the old values, as one comprehension (much faster than
        # an indexed loop, the same arithmetic). Slots above the number of calls hold exactly 0 and stay 0.
        q = 1.0 - p
        n = min(top - 1, self.calls)
        pmf[1 : n + 1] = [a * q + b * p for a, b in zip(pmf[1 : n + 1], pmf[:n])]
        pmf[0] *= q
        pmf[top] = tail

    def at_least(self, j: int) -> float:
        """P(D >= j)."""
        if j <= 0:
            return 1.0
        if j > self.calls:
            return 0.0  # exactly, without rounding noise: fewer calls than that
        if self._pmf is None:
            return 1.0 - _normal_cdf((j - 0.5 - self.mean) / math.sqrt(self.var))
        if j > self.upto:
            return 0.0
        cumulative = self._cumulative
        if cumulative is None:
            # Running sums in the order sum(pmf[:j]) adds them: the same floats, computed once per state.
            cumulative, total = [0.0], 0.0
            for w in self._pmf[:-1]:
                total += w
                cumulative.append(total)
            self._cumulative = cumulative
        return max(0.0, 1.0 - cumulative[j])


def risk_with(ready: int, freed_pmf: Sequence[float], competing: CompetingAnswers) -> float:
    """P(no agent for the next call | it is answered), given the answers competing with it."""
    risk = 0.0
    for freed, weight in enumerate(freed_pmf):
        if weight:
            available = ready + freed
            risk += weight * (1.0 if available <= 0 else competing.at_least(available))
    return min(1.0, risk)


def risk_over_answer_times(
    ready: int, freed_pmfs: Sequence[Sequence[float]], competing: CompetingAnswers
) -> float:
    """The same risk averaged over equally likely answer times, one freed-agents distribution each.

    Averaging the risk, not the agents freed, matters with few agents: an early answer finds fewer agents
    freed, and its higher risk is not offset by a late answer's, which cannot go below 0.
    """
    return sum(risk_with(ready, pmf, competing) for pmf in freed_pmfs) / len(freed_pmfs)


def risk_of_next_call(ready: int, freed_pmf: Sequence[float], competing_calls: int, p: float) -> float:
    """P(no agent for the next call | it is answered), with `competing_calls` each answered with p.

    `ready` may be negative when answered customers already wait for agents.
    """
    return risk_with(ready, freed_pmf, CompetingAnswers([p] * competing_calls, ready + len(freed_pmf) + 1))


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))
