"""Calibration statistics: pure functions over (samples, passes) counts, no I/O.

pass@k is the unbiased estimator of Chen et al. (2021): with n samples of which c pass,
pass@k = 1 - C(n-c, k) / C(n, k). The interval for a rate is Wilson's score interval, which,
unlike the normal approximation, stays inside [0, 1] and is sound at 0/n and n/n. pass@k's
interval is the pass rate's, carried through pass@k = 1 - (1 - p)^k: that map is increasing in
p, so it keeps the coverage, and it stays inside [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

Z_95 = 1.959963984540054  # the two-sided 95 % normal quantile


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased chance that at least one of k samples passes, from n samples with c passes."""
    if not (0 <= c <= n) or n < 1:
        raise ValueError(f"need 0 <= c <= n and n >= 1, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and n={n}, got {k}")
    if n - c < k:
        return 1.0  # every choice of k samples contains a pass
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def wilson_interval(c: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson's score interval for a rate of c successes in n trials (95 % by default)."""
    if n < 1 or not 0 <= c <= n:
        raise ValueError(f"need n >= 1 and 0 <= c <= n, got n={n}, c={c}")
    p = c / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def pass_at_k_interval(c: int, n: int, k: int, z: float = Z_95) -> tuple[float, float]:
    """A 95 % interval for pass@k: Wilson's interval for the pass rate p through 1 - (1-p)^k,
    widened to hold the unbiased estimate where the two part at the edges (with n - c < k the
    estimate is exactly 1)."""
    estimate = pass_at_k(n, c, k)  # checks n, c and k
    low, high = wilson_interval(c, n, z)
    low, high = 1.0 - (1.0 - low) ** k, 1.0 - (1.0 - high) ** k
    return min(low, estimate), max(high, estimate)


def rate_summary(c: int, n: int, k: int) -> dict[str, float | int | list[float]]:
    """One task under one model (or one model overall): counts, pass@1 with its interval and
    pass@k (k capped at n)."""
    low, high = wilson_interval(c, n)
    return {
        "samples": n,
        "passed": c,
        "pass_at_1": c / n,
        "pass_at_1_ci95": [round(low, 6), round(high, 6)],
        "k": min(k, n),
        "pass_at_k": pass_at_k(n, c, min(k, n)),
        "pass_at_k_ci95": [round(x, 6) for x in pass_at_k_interval(c, n, min(k, n))],
    }


def has_signal(rates: Iterable[float]) -> bool:
    """A task gives a gradient when some model's pass rate is strictly between 0 and 1."""
    return any(0.0 < rate < 1.0 for rate in rates)


def signal_share(per_task_rates: Mapping[str, Iterable[float]]) -> float | None:
    """The fraction of tasks with signal for at least one model; None with no task."""
    if not per_task_rates:
        return None
    with_signal = sum(1 for rates in per_task_rates.values() if has_signal(rates))
    return with_signal / len(per_task_rates)
