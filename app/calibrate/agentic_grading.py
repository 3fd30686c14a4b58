"""Grading agentic samples: the task's verifier (tests/test.sh) in the sandbox, as stage 2 runs
it (app/funnel/agentic_verify.py). A run made now was graded at its end, in its own container;
a run read from the cache is replayed (its commands, one step each, in a fresh agent phase: app/
attacks/agent_replay.py) and then verified, so a verifier changed since is honoured at no model
cost. Each task's oracle (solution/solve.sh) runs once too, so that "no model solves it" can be
told apart from "nothing can solve it". Grades are never cached.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from app.attacks.agent_replay import replay
from app.attacks.redteam_agent import STEP_TIMEOUT_S
from app.calibrate.agentic import AgentRun, TaskImages
from app.calibrate.grading import Graded, Grading, passes
from app.calibrate.sampling import Sample
from app.envpack.model import AgenticTask, EnvPack
from app.funnel.agentic_verify import phase_limits
from app.funnel.pipeline import FunnelOptions
from app.progress import CancelToken
from app.sandbox.agentic_run import AgentScript, Episode, run_episode
from app.sandbox.base import GradingResult

TAIL = 300  # characters of the verifier's output kept as a sample's feedback


def episode_result(key: str, episode: Episode) -> GradingResult:
    """An episode as the card's grading result: its reward, the verifier's last words."""
    detail = episode.detail or (f"the verifier run ended: {episode.error}" if episode.error else "")
    return GradingResult(
        key=key,
        reward=episode.reward,
        feedback=episode.verifier_output[-TAIL:],
        error=None if episode.reward is not None else "exception",
        detail=detail[:TAIL],
    )


def grade_agent_runs(
    pack: EnvPack,
    samples: list[Sample],
    runs: dict,
    images: TaskImages,
    options: FunnelOptions,
    *,
    on_result: Callable[[GradingResult], None] | None = None,
    cancel: CancelToken | None = None,
) -> Grading:
    """Every sample (`runs[sample.request]` holds its trajectory) and every task's oracle.
    Raises SandboxUnavailable when Docker fails, app.progress.Cancelled when cancelled."""
    cancel = cancel or CancelToken()
    limits = phase_limits(pack)
    step_timeout_s = min(STEP_TIMEOUT_S, limits.agent_timeout_s)

    def sample_episode(run: AgentRun, task: AgenticTask) -> Episode:
        if run.episode is not None:
            return run.episode
        commands = [step.command for step in run.trajectory.steps]
        return replay(images.client, images(task), _tests(pack, task), commands, limits,
                      step_timeout_s)  # fmt: skip

    def oracle_episode(task: AgenticTask) -> Episode:
        solution = pack.root / task.folder / "solution"
        oracle = AgentScript.from_folder(solution, "solve.sh", "/solution")
        return run_episode(images.client, images(task), _tests(pack, task), oracle, limits)

    def one(job: tuple[str, Callable[[], Episode]]) -> GradingResult:
        cancel.raise_if_cancelled()
        key, make = job
        result = episode_result(key, make())
        if on_result is not None:
            on_result(result)
        return result

    jobs: list[tuple[str, Callable[[], Episode]]] = []
    for i, sample in enumerate(samples):
        task = pack.agentic_task(sample.request.task_id)
        run = runs[sample.request]
        jobs.append((f"s:{i}", lambda run=run, task=task: sample_episode(run, task)))
    tasks = [t for t in pack.agentic_tasks if any(s.request.task_id == t.id for s in samples)]
    jobs += [(f"ref:{t.id}", lambda t=t: oracle_episode(t)) for t in tasks]
    workers = options.jobs or max(1, min(len(jobs), os.cpu_count() or 1))
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="calibrate-grade") as pool:
        results = {r.key: r for r in pool.map(one, jobs)}
    graded = [
        Graded(sample, results[f"s:{i}"], passes(pack, results[f"s:{i}"]))
        for i, sample in enumerate(samples)
    ]
    reference_passes = {t.id: passes(pack, results[f"ref:{t.id}"]) for t in tasks}
    return Grading(graded, reference_passes, "docker", False, None)


def _tests(pack: EnvPack, task: AgenticTask):
    return pack.root / task.folder / "tests"
