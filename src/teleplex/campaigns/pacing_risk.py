"""The abandonment risk of one more call: the probability that, if it is answered, no agent is left for it.

Pure arithmetic on two counts: agents available when the new call would be answered (the ready ones plus
busy ones that free in time, each with its own probability) and answered calls that will compete for them
(calls already ringing and the other new ones, each answered with the same probability).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import accumulate

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
        self._support = 0  # calls added with p > 0: the pmf is exactly 0 above this many
        self._pmf: list[float] | None = [1.0] + [0.0] * self.upto  # last slot: P(D >= upto)
        self._cumulative: list[float] | None = None  # P(D < j) for j = 0..upto, rebuilt after an add
        # The variance only grows, so if all these calls together reach the normal approximation, the exact
        # convolution would be thrown away: sum mean and variance in the same order as `add` and skip it.
        mean = var = 0.0
        for p in probabilities:
            mean += p
            var += p * (1.0 - p)
        self.mean, self.var, self.calls = mean, var, len(probabilities)
        if var >= _NORMAL_VARIANCE:
            self._pmf = None
            return
        # `add`'s convolution, inlined (the calls ringing are most of the adds).
        pmf, top, support = self._pmf, self.upto, 0
        for p in probabilities:
            if p == 0.0:
                continue  # a call past every answer seen: x (1 - 0) + y 0 leaves every slot as it was
            support += 1
            tail = pmf[top] + pmf[top - 1] * p
            q = 1.0 - p
            n = min(top - 1, support)
            pmf[1 : n + 1] = [a * q + b * p for a, b in zip(pmf[1 : n + 1], pmf[:n])]
            pmf[0] *= q
            pmf[top] = tail
        self._support = support

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
        if p == 0.0:
            return  # x (1 - 0) + y 0 is x: every slot stays as it was
        pmf, top = self._pmf, self.upto
        tail = pmf[top] + pmf[top - 1] * p
        # pmf[j] <- pmf[j] (1 - p) + pmf[j - 1] p from the old values, as one comprehension (much faster than
        # an indexed loop, the same arithmetic). Slots above the number of calls with p > 0 hold exactly 0 and
        # stay 0.
        self._support += 1
        q = 1.0 - p
        n = min(top - 1, self._support)
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
        return max(0.0, 1.0 - self._below()[j])

    def _below(self) -> list[float]:
        """P(D < j) for j = 0..min(calls, upto), computed once per state.

        Running sums in the order sum(pmf[:j]) adds them (0.0 + w0 is w0): the same floats. Past
        min(calls, upto) `at_least` answers 0 without them.
        """
        cumulative = self._cumulative
        if cumulative is None:
            cumulative = self._cumulative = [0.0, *accumulate(self._pmf[: min(self.calls, self.upto)])]
        return cumulative

    def risk(self, ready: int, freed_pmf: Sequence[float]) -> float:
        """P(no agent for the next call | it is answered), given `freed_pmf` busy agents freed in time.

        The weighted sum of `at_least(ready + freed)` over the freed counts, in the same order, with
        `at_least` inlined: this is the pacer's innermost loop (several million times per simulated day of a
        large team). Once more agents are available than calls could compete, every further term is
        exactly 0 and the sum stops.
        """
        total = 0.0
        calls = self.calls
        if self._pmf is None:
            mean, sd, erf = self.mean, math.sqrt(self.var), math.erf
            for freed, weight in enumerate(freed_pmf):
                if weight:
                    j = ready + freed
                    if j <= 0:
                        total += weight * 1.0
                    elif j > calls:
                        break
                    else:
                        # 1 - _normal_cdf((j - 0.5 - mean) / sd), spelled out
                        total += weight * (1.0 - 0.5 * (1.0 + erf((j - 0.5 - mean) / sd / _SQRT2)))
            return min(1.0, total)
        top = min(calls, self.upto)
        below = self._below()
        for freed, weight in enumerate(freed_pmf):
            if weight:
                j = ready + freed
                if j <= 0:
                    total += weight * 1.0
                elif j > top:
                    break
                else:
                    total += weight * max(0.0, 1.0 - below[j])
        return min(1.0, total)


def risk_with(ready: int, freed_pmf: Sequence[float], competing: CompetingAnswers) -> float:
    """P(no agent for the next call | it is answered), given the answers competing with it."""
    return competing.risk(ready, freed_pmf)


def risk_over_answer_times(
    ready: int, freed_pmfs: Sequence[Sequence[float]], competing: CompetingAnswers
) -> float:
    """The same risk averaged over equally likely answer times, one freed-agents distribution each.

    Averaging the risk, not the agents freed, matters with few agents: an early answer finds fewer agents
    freed, and its higher risk is not offset by a late answer's, which cannot go below 0.
    """
    risk = competing.risk
    return sum(risk(ready, pmf) for pmf in freed_pmfs) / len(freed_pmfs)


def risk_of_next_call(ready: int, freed_pmf: Sequence[float], competing_calls: int, p: float) -> float:
    """P(no agent for the next call | it is answered), with `competing_calls` each answered with p.

    `ready` may be negative when answered customers already wait for agents.
    """
    return risk_with(ready, freed_pmf, CompetingAnswers([p] * competing_calls, ready + len(freed_pmf) + 1))


_SQRT2 = math.sqrt(2.0)


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / _SQRT2))
