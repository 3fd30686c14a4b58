"""Item-response fit for the card: task difficulty and discrimination, model ability.

Persons are the models (ability θ_j), items are the tasks (difficulty b_i, discrimination a_i).
Each (model, task) cell holds c passes out of n samples, a binomial draw with

    1PL (Rasch): P(pass) = σ(θ_j − b_i)        2PL: P(pass) = σ(a_i (θ_j − b_i))

Fitted by penalised maximum likelihood (the posterior mode) with scipy.optimize (L-BFGS-B, an
exact gradient). Weak normal priors keep the fit finite and fix its origin and scale:
θ ~ N(0, 1), b ~ N(0, 3²), log a ~ N(0, 0.5²). Without them a task every model always passes
has b = −∞ (and one nobody passes +∞); with them its b sits well past the ladder, and its
standard error says how little the data pin it. Standard errors come from the inverse of the
Fisher information of the penalised likelihood at the mode.

How many models a fit needs (fewer: no fit, the card shows raw rates):
- 1PL, 2: with one model a difficulty is only a relabelling of its pass rate; two models are the
  least that put tasks and models on one scale.
- 2PL, 4: a task's slope is fitted through one point per model. Two points fit any slope
  exactly, and the ladder's origin and scale already use up two abilities' worth of freedom,
  so with 3 models one free ability carries every slope. From 4 on, each task keeps at least
  two residual degrees of freedom. When both are fitted, the card uses the one with the lower
  AIC (−2 log-likelihood + 2 × parameters, the likelihood without the priors).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

MIN_MODELS = {"1PL": 2, "2PL": 4}
PRIOR_SD = {"ability": 1.0, "difficulty": 3.0, "log_discrimination": 0.5}
MAX_ITERATIONS = 2000


@dataclass(slots=True)
class Fit:
    model: str  # "1PL" or "2PL"
    ability: np.ndarray  # per model (person)
    ability_se: np.ndarray
    difficulty: np.ndarray  # per task (item)
    difficulty_se: np.ndarray
    discrimination: np.ndarray  # all 1.0 under the 1PL
    discrimination_se: np.ndarray | None  # None under the 1PL (fixed, not fitted)
    log_likelihood: float  # binomial, without the priors
    parameters: int
    converged: bool
    message: str
    mean_abs_residual: float  # |observed − fitted pass rate|, averaged over (model, task) cells

    @property
    def aic(self) -> float:
        return 2 * self.parameters - 2 * self.log_likelihood


def _unpack(x: np.ndarray, models: int, tasks: int, two: bool):
    theta, b = x[:models], x[models : models + tasks]
    alpha = x[models + tasks :] if two else np.zeros(tasks)
    return theta, b, alpha


def _objective(x, passed, samples, two: bool):
    """The negative log-posterior and its gradient; `passed`, `samples` are tasks × models."""
    tasks, models = passed.shape
    theta, b, alpha = _unpack(x, models, tasks, two)
    a = np.exp(alpha)[:, None]
    gap = theta[None, :] - b[:, None]
    eta = a * gap
    # −log L = Σ n·softplus(η) − c·η (the binomial coefficient is a constant)
    nll = float(np.sum(samples * np.logaddexp(0.0, eta) - passed * eta))
    resid = samples * expit(eta) - passed  # d(−log L)/dη
    sd = PRIOR_SD
    penalty = 0.5 * (np.sum(theta**2) / sd["ability"] ** 2 + np.sum(b**2) / sd["difficulty"] ** 2)
    grad_theta = np.sum(resid * a, axis=0) + theta / sd["ability"] ** 2
    grad_b = -np.sum(resid * a, axis=1) + b / sd["difficulty"] ** 2
    grads = [grad_theta, grad_b]
    if two:
        penalty += 0.5 * np.sum(alpha**2) / sd["log_discrimination"] ** 2
        grads.append(np.sum(resid * eta, axis=1) + alpha / sd["log_discrimination"] ** 2)
    return nll + penalty, np.concatenate(grads)


def _standard_errors(x, samples, two: bool) -> tuple[np.ndarray, np.ndarray]:
    """Standard errors from the inverse Fisher information of the penalised likelihood at `x`:
    (per model, tasks × item parameters). The information couples a task only with the models,
    so the inverse is taken by blocks (the Schur complement on the models' block): time and
    memory grow with tasks × models, not with the square of the parameters."""
    tasks, models = samples.shape
    theta, b, alpha = _unpack(x, models, tasks, two)
    a = np.exp(alpha)[:, None]
    eta = a * (theta[None, :] - b[:, None])
    p = expit(eta)
    weight = samples * p * (1 - p)  # tasks × models
    # dη/dθ_j = a_i; the item gradients: dη/db_i = −a_i, dη/dlog a_i = η_ij
    item_grad = np.stack([-a * np.ones_like(eta), eta] if two else [-a * np.ones_like(eta)], -1)
    person = np.sum(weight * a**2, axis=0) + 1.0 / PRIOR_SD["ability"] ** 2  # diagonal block
    cross = (weight * a)[:, :, None] * item_grad  # tasks × models × k
    item = np.einsum("ij,ijk,ijl->ikl", weight, item_grad, item_grad)  # tasks × k × k
    prior = [PRIOR_SD["difficulty"], PRIOR_SD["log_discrimination"]][: item.shape[1]]
    item += np.diag(1.0 / np.square(prior))[None, :, :]
    item_inv = np.linalg.inv(item)
    spread = cross @ item_inv  # tasks × models × k
    schur = np.diag(person) - np.einsum("ijk,ilk->jl", spread, cross)
    schur_inv = np.linalg.inv(schur)
    item_cov = item_inv + np.einsum("ijk,jl,ilm->ikm", spread, schur_inv, spread)
    return np.sqrt(np.diag(schur_inv)), np.sqrt(np.einsum("ikk->ik", item_cov))


def fit(passed: np.ndarray, samples: np.ndarray, model: str) -> Fit:
    """Fit `model` ("1PL" or "2PL") to `passed` out of `samples` (both tasks × models)."""
    two = model == "2PL"
    tasks, models = passed.shape
    start = np.zeros(models + tasks * (2 if two else 1))
    result = minimize(
        _objective,
        start,
        args=(passed, samples, two),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": MAX_ITERATIONS},
    )
    x = result.x
    theta, b, alpha = _unpack(x, models, tasks, two)
    person_se, item_se = _standard_errors(x, samples, two)
    a = np.exp(alpha)
    eta = a[:, None] * (theta[None, :] - b[:, None])
    log_lik = float(np.sum(passed * eta - samples * np.logaddexp(0.0, eta)))
    return Fit(
        model=model,
        ability=theta,
        ability_se=person_se,
        difficulty=b,
        difficulty_se=item_se[:, 0],
        discrimination=a,
        discrimination_se=a * item_se[:, 1] if two else None,  # the delta method
        log_likelihood=log_lik,
        parameters=len(x),
        converged=bool(result.success),
        message=str(result.message),
        mean_abs_residual=_mean_abs_residual(passed, samples, expit(eta)),
    )


def _mean_abs_residual(passed: np.ndarray, samples: np.ndarray, fitted: np.ndarray) -> float:
    """|observed − fitted pass rate| over the cells that hold samples (missing ones skipped)."""
    seen = samples > 0
    return float(np.mean(np.abs(passed[seen] / samples[seen] - fitted[seen])))


def why_not(passed: np.ndarray, samples: np.ndarray) -> str | None:
    """Why no fit can be made (None: a 1PL fit at least can)."""
    tasks, models = passed.shape
    if models < MIN_MODELS["1PL"]:
        return (
            f"an item-response fit needs {MIN_MODELS['1PL']} or more models (1PL; "
            f"{MIN_MODELS['2PL']} for 2PL), this run has {models}"
        )
    if tasks < 2:
        return "an item-response fit needs 2 or more tasks with samples"
    if np.all(passed == samples):
        return "every sample passed: nothing tells the tasks apart"
    if np.all(passed == 0):
        return "no sample passed: nothing tells the tasks apart"
    return None


def best_fit(passed: np.ndarray, samples: np.ndarray) -> tuple[Fit, dict[str, Fit]]:
    """The 1PL, the 2PL as well when there are enough models, and the one with the lower AIC."""
    fits = {"1PL": fit(passed, samples, "1PL")}
    if passed.shape[1] >= MIN_MODELS["2PL"]:
        fits["2PL"] = fit(passed, samples, "2PL")
    return min(fits.values(), key=lambda f: f.aic), fits


def _partial_note(partial: list[str]) -> str:
    if not partial:
        return ""
    return (
        f"; {len(partial)} task(s) not sampled by every model ({', '.join(partial[:5])}"
        + (", …" if len(partial) > 5 else "")
        + ") are fitted on the samples they have, with wider intervals"
    )


def _r(value: float) -> float:
    return round(float(value), 4)


def _task_fits(chosen: Fit, task_ids: list[str], passed, samples) -> dict[str, dict]:
    """Each task's fitted numbers; `extreme` marks a task every sampling model passed (or
    failed): its difficulty is a bound the prior sets, not a measurement."""
    two = chosen.model == "2PL"
    tasks = {}
    for i, task_id in enumerate(task_ids):
        seen = samples[i] > 0
        extreme = (
            "all passed"
            if np.all(passed[i][seen] == samples[i][seen])
            else "all failed"
            if np.all(passed[i][seen] == 0)
            else None
        )
        tasks[task_id] = {
            "difficulty": _r(chosen.difficulty[i]),
            "difficulty_se": _r(chosen.difficulty_se[i]),
            "discrimination": _r(chosen.discrimination[i]) if two else None,
            "discrimination_se": _r(chosen.discrimination_se[i]) if two else None,
            "extreme": extreme,  # its difficulty is a bound the prior sets, not a measurement
        }
    return tasks


def difficulty_block(models: list[str], counts: dict[str, dict[str, tuple[int, int]]]) -> dict:
    """The card's `difficulty`: `counts` maps each sampled task to {model: (passed, samples)}.
    A model that did not sample a task (a run stopped at its budget) leaves that cell missing:
    the likelihood skips it (it holds no samples), and `partial` names those tasks. Models with
    no sample at all are left out of the fit. Not fitted: {"fitted": False, "reason"}."""
    task_ids = list(counts)
    if counts:
        models = [m for m in models if any(m in cells for cells in counts.values())]
    passed = np.zeros((len(task_ids), len(models)))
    samples = np.zeros_like(passed)
    for i, task_id in enumerate(task_ids):
        for j, model in enumerate(models):
            passed[i, j], samples[i, j] = counts[task_id].get(model, (0, 0))
    partial = [t for i, t in enumerate(task_ids) if np.any(samples[i] == 0)]
    reason = why_not(passed, samples)
    if reason is not None:
        return {"fitted": False, "reason": f"{reason}: raw pass rates shown"}
    chosen, fits = best_fit(passed, samples)
    tasks = _task_fits(chosen, task_ids, passed, samples)
    return {
        "fitted": True,
        "model": chosen.model,
        "reason": (
            f"{chosen.model} fit over {len(models)} models and {len(task_ids)} tasks "
            f"(1PL needs {MIN_MODELS['1PL']} models, 2PL {MIN_MODELS['2PL']}"
            + ("; the lower AIC chose it)" if len(fits) > 1 else ")")
            + _partial_note(partial)
        ),
        "partial": partial,
        "priors_sd": dict(PRIOR_SD),
        "ability": {
            m: {"ability": _r(chosen.ability[j]), "se": _r(chosen.ability_se[j])}
            for j, m in enumerate(models)
        },
        "tasks": tasks,
        "fit": {
            "converged": chosen.converged,
            "message": chosen.message,
            "log_likelihood": _r(chosen.log_likelihood),
            "parameters": chosen.parameters,
            "aic": {name: _r(f.aic) for name, f in fits.items()},
            "mean_abs_residual": _r(chosen.mean_abs_residual),
        },
    }
