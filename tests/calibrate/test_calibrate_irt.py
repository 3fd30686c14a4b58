"""The item-response fit (app/calibrate/irt.py): known parameters are recovered from simulated
binomial data (seeded), the standard errors match the curvature, and degenerate inputs give no
fit and say why instead of crashing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from app.calibrate import irt


def _simulate(tasks: int, models: int, samples: int, seed: int, spread: float = 0.0):
    rng = np.random.default_rng(seed)
    theta = np.linspace(-1.5, 1.5, models)
    b = rng.normal(0.0, 1.2, tasks)
    a = np.exp(rng.normal(0.0, spread, tasks)) if spread else np.ones(tasks)
    p = 1.0 / (1.0 + np.exp(-a[:, None] * (theta[None, :] - b[:, None])))
    passed = rng.binomial(samples, p).astype(float)
    return passed, np.full_like(passed, samples), theta, b, a


def _centred(x: np.ndarray) -> np.ndarray:
    return x - x.mean()


def test_the_1pl_recovers_known_difficulties_and_abilities() -> None:
    passed, samples, theta, b, _ = _simulate(tasks=150, models=3, samples=16, seed=1)
    fit = irt.fit(passed, samples, "1PL")
    assert fit.converged and fit.discrimination_se is None
    # The origin is set by the priors, so compare up to a shift (the same for both).
    shift = np.mean(fit.ability - theta)
    assert np.max(np.abs(fit.ability - shift - theta)) < 0.1
    moderate = np.abs(b) < 2.5  # past the ladder a difficulty is a bound, not a measurement
    error = fit.difficulty[moderate] - shift - b[moderate]
    assert np.sqrt(np.mean(error**2)) < 0.45 and abs(error.mean()) < 0.1
    # About 95 % of the 95 % intervals hold the true value.
    z = (fit.difficulty[moderate] - shift - b[moderate]) / fit.difficulty_se[moderate]
    assert 0.88 < np.mean(np.abs(z) < 1.96) <= 1.0


def test_the_2pl_recovers_discriminations_and_wins_on_aic_when_they_differ() -> None:
    passed, samples, theta, b, a = _simulate(tasks=300, models=8, samples=16, seed=2, spread=0.5)
    chosen, fits = irt.best_fit(passed, samples)
    assert set(fits) == {"1PL", "2PL"} and chosen.model == "2PL"
    assert chosen.converged and fits["2PL"].aic < fits["1PL"].aic
    assert np.corrcoef(chosen.ability, theta)[0, 1] > 0.99
    assert np.corrcoef(chosen.difficulty, b)[0, 1] > 0.93
    assert np.corrcoef(np.log(chosen.discrimination), np.log(a))[0, 1] > 0.75
    assert np.all(chosen.discrimination_se > 0)


def test_the_aic_keeps_the_1pl_when_every_task_discriminates_alike() -> None:
    passed, samples, *_ = _simulate(tasks=200, models=6, samples=16, seed=3)
    chosen, fits = irt.best_fit(passed, samples)
    assert set(fits) == {"1PL", "2PL"} and chosen.model == "1PL"


def test_the_1pl_standard_errors_are_the_curvature_of_the_objective() -> None:
    passed, samples, *_ = _simulate(tasks=12, models=3, samples=8, seed=4)
    fit = irt.fit(passed, samples, "1PL")
    x = np.concatenate([fit.ability, fit.difficulty])
    gradient = lambda v: irt._objective(v, passed, samples, False)[1]  # noqa: E731
    hessian = np.array([approx_fprime(x, lambda v, i=i: gradient(v)[i], 1e-6) for i in range(15)])
    expected = np.sqrt(np.diag(np.linalg.inv(hessian)))
    assert fit.ability_se == pytest.approx(expected[:3], rel=1e-3)
    assert fit.difficulty_se == pytest.approx(expected[3:], rel=1e-3)


def _block(models: list[str], rows: dict[str, list[tuple[int, int]]]) -> dict:
    return irt.difficulty_block(
        models, {t: dict(zip(models, r, strict=True)) for t, r in rows.items()}
    )


def test_a_perfect_task_gets_a_finite_low_difficulty_and_is_marked() -> None:
    models = ["m1", "m2", "m3"]
    block = _block(
        models,
        {
            "easy": [(4, 4), (4, 4), (4, 4)],
            "mid": [(1, 4), (2, 4), (4, 4)],
            "hard": [(0, 4), (0, 4), (1, 4)],
            "never": [(0, 4), (0, 4), (0, 4)],
        },
    )
    assert block["fitted"] and block["model"] == "1PL" and block["fit"]["converged"]
    tasks = block["tasks"]
    order = sorted(tasks, key=lambda t: tasks[t]["difficulty"])
    assert order == ["easy", "mid", "hard", "never"]
    assert all(
        np.isfinite(t["difficulty"]) and np.isfinite(t["difficulty_se"]) for t in tasks.values()
    )
    assert (tasks["easy"]["extreme"], tasks["never"]["extreme"]) == ("all passed", "all failed")
    assert tasks["mid"]["extreme"] is None and tasks["mid"]["discrimination"] is None
    assert tasks["easy"]["difficulty_se"] > tasks["mid"]["difficulty_se"]
    ability = block["ability"]
    assert ability["m1"]["ability"] < ability["m2"]["ability"] < ability["m3"]["ability"]
    assert set(block["fit"]["aic"]) == {"1PL"}


def test_four_models_fit_the_2pl_as_well() -> None:
    models = ["m1", "m2", "m3", "m4"]
    rows = {f"t{i}": [(min(8, max(0, i + j - 3)), 8) for j in range(4)] for i in range(8)}
    block = _block(models, rows)
    assert block["fitted"] and set(block["fit"]["aic"]) == {"1PL", "2PL"}
    if block["model"] == "2PL":
        assert all(t["discrimination"] > 0 for t in block["tasks"].values())


@pytest.mark.parametrize(
    ("models", "rows", "reason"),
    [
        (["m1"], {"t1": [(1, 2)], "t2": [(0, 2)]}, "needs 2 or more models"),
        (["m1", "m2"], {"t1": [(2, 2), (2, 2)], "t2": [(2, 2), (2, 2)]}, "every sample passed"),
        (["m1", "m2"], {"t1": [(0, 2), (0, 2)], "t2": [(0, 2), (0, 2)]}, "no sample passed"),
        (["m1", "m2"], {"t1": [(1, 2), (0, 2)]}, "2 or more tasks"),
        (["m1", "m2"], {}, "2 or more tasks"),
    ],
)
def test_degenerate_inputs_give_no_fit_and_say_why(models, rows, reason) -> None:
    block = _block(models, rows)
    assert block == {"fitted": False, "reason": block["reason"]}
    assert reason in block["reason"] and block["reason"].endswith("raw pass rates shown")


def _dense_fisher(fit: irt.Fit, samples: np.ndarray) -> np.ndarray:
    """The 2PL's Fisher information plus the priors' precision, cell by cell (θ, b, log a)."""
    tasks, models = samples.shape
    size = models + 2 * tasks
    info = np.zeros((size, size))
    for i in range(tasks):
        for j in range(models):
            a, gap = fit.discrimination[i], fit.ability[j] - fit.difficulty[i]
            p = 1 / (1 + np.exp(-a * gap))
            grad = np.zeros(size)
            grad[j], grad[models + i], grad[models + tasks + i] = a, -a, a * gap
            info += samples[i, j] * p * (1 - p) * np.outer(grad, grad)
    sd = irt.PRIOR_SD
    prior = [sd["ability"]] * models + [sd["difficulty"]] * tasks
    prior += [sd["log_discrimination"]] * tasks
    return info + np.diag(1 / np.square(prior))


def test_the_2pl_standard_errors_are_the_inverse_fisher_information() -> None:
    passed, samples, *_ = _simulate(tasks=10, models=5, samples=8, seed=5, spread=0.4)
    fit = irt.fit(passed, samples, "2PL")
    se = np.sqrt(np.diag(np.linalg.inv(_dense_fisher(fit, samples))))
    assert fit.ability_se == pytest.approx(se[:5], rel=1e-6)
    assert fit.difficulty_se == pytest.approx(se[5:15], rel=1e-6)
    assert fit.discrimination_se == pytest.approx(fit.discrimination * se[15:], rel=1e-6)


def test_a_5000_task_package_fits_without_a_parameters_squared_matrix() -> None:
    # a dense information matrix for this 2PL would hold 10004² floats (800 MB)
    passed, samples, *_ = _simulate(tasks=5000, models=4, samples=8, seed=6, spread=0.3)
    chosen, fits = irt.best_fit(passed, samples)
    assert set(fits) == {"1PL", "2PL"} and all(f.converged for f in fits.values())
    assert np.all(np.isfinite(chosen.difficulty_se))
