"""The statistics of `gauntlet calibrate`, against values computed by hand."""

from __future__ import annotations

import math

import pytest

from app.calibrate.stats import (
    has_signal,
    pass_at_k,
    pass_at_k_interval,
    rate_summary,
    signal_share,
    wilson_interval,
)


def test_pass_at_k_matches_hand_computed_values() -> None:
    # n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    # n=10, c=3, k=5: 1 - C(7,5)/C(10,5) = 1 - 21/252
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - 21 / 252)
    # k=1 is the plain rate
    assert pass_at_k(8, 3, 1) == pytest.approx(3 / 8)
    # fewer failures than k: some pass is certain; no pass: never
    assert pass_at_k(4, 3, 2) == 1.0
    assert pass_at_k(4, 0, 4) == 0.0


def test_pass_at_k_refuses_impossible_counts() -> None:
    for n, c, k in ((0, 0, 1), (3, 4, 1), (3, 1, 0), (3, 1, 4)):
        with pytest.raises(ValueError):
            pass_at_k(n, c, k)


def test_wilson_interval_matches_hand_computed_values() -> None:
    z = 1.959963984540054
    # c=0, n=10: [0, z^2 / (n + z^2)]
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(z * z / (10 + z * z))
    assert high == pytest.approx(0.27753, abs=1e-5)
    # c=5, n=10 is symmetric around 0.5: 0.5 ± z*sqrt(0.025 + z^2/400)/(1 + z^2/10)
    low, high = wilson_interval(5, 10)
    half = z * math.sqrt(0.025 + z * z / 400) / (1 + z * z / 10)
    assert (low, high) == (pytest.approx(0.5 - half), pytest.approx(0.5 + half))
    assert low == pytest.approx(0.23659, abs=1e-5)
    # c=n mirrors c=0
    assert wilson_interval(10, 10)[0] == pytest.approx(1 - 0.27753, abs=1e-5)


def test_rate_summary_caps_k_at_the_samples() -> None:
    summary = rate_summary(1, 2, 5)
    assert summary["k"] == 2 and summary["pass_at_k"] == 1.0 and summary["pass_at_1"] == 0.5


def test_signal_share_counts_tasks_strictly_between_zero_and_one_for_some_model() -> None:
    assert not has_signal([0.0, 1.0])
    assert has_signal([0.0, 0.25])
    rates = {"easy": [1.0, 1.0], "hard": [0.0, 0.0], "mixed": [1.0, 0.0], "useful": [0.5, 0.0]}
    assert signal_share(rates) == 0.25
    assert signal_share({}) is None


def test_pass_at_k_interval_carries_the_wilson_interval_through_one_minus_the_miss_rate() -> None:
    # 5 of 10, k = 2: Wilson [0.236590, 0.763410] -> [1 - 0.763410^2, 1 - 0.236590^2]
    low, high = pass_at_k_interval(5, 10, 2)
    assert low == pytest.approx(0.417210, abs=1e-6) and high == pytest.approx(0.944024, abs=1e-6)
    assert pass_at_k_interval(5, 10, 1) == pytest.approx(wilson_interval(5, 10))
    # never passing: pass@k can still be up to 1 - (1 - 0.27753)^4
    low, high = pass_at_k_interval(0, 10, 4)
    assert low == 0.0 and high == pytest.approx(1 - (1 - 0.27753) ** 4, abs=1e-5)
    assert pass_at_k_interval(10, 10, 3) == (pytest.approx(1 - 0.27753**3, abs=1e-5), 1.0)
    # the unbiased estimate sits inside its interval, also where it is exactly 1 (7 of 8, k 4)
    for c in range(0, 9):
        low, high = pass_at_k_interval(c, 8, 4)
        assert low <= pass_at_k(8, c, 4) <= high
    assert pass_at_k_interval(7, 8, 4)[1] == 1.0
    for bad in ((1, 4, 0), (1, 4, 5), (5, 4, 2)):
        with pytest.raises(ValueError):
            pass_at_k_interval(*bad)
