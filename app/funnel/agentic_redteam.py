"""Stage 3's LLM red-team agent for agentic packages (GX329-GX331), run after the cheating
agents when the user chose a model: on up to MAX_TASKS tasks they did not already break, one
white-box conversation each (the model reads tests/: the deepest search), all within one
dollar cap. A reward that beats the floor is replayed in fresh containers (2 of 3) before it
is reported as a hack; one that does not replay is reported as such (GX330).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.attacks.agent_outputs import differences, summarise, workdir_files
from app.attacks.agent_replay import confirm, replay
from app.attacks.redteam_agent import (
    DEFAULT_STEPS,
    DEFAULT_USD,
    STEP_TIMEOUT_S,
    AgentBudget,
    AgentSettings,
    estimate,
    opening,
    run_agent,
)
from app.attacks.trajectory import Trajectory, save_trajectories
from app.envpack.model import AgenticTask, EnvPack
from app.finding_codes import FindingSink
from app.findings import AttackRef, Stage
from app.funnel.agentic_verify import phase_limits, task_image
from app.funnel.pipeline import FunnelOptions
from app.progress import CancelToken, ProgressCallback, ProgressEvent
from app.sandbox.agentic_run import AgentScript, run_episode
from app.sandbox.base import SandboxUnavailable

MAX_TASKS = 2
ATTACK_ID = "llm-red-team-agent"
MAX_COMMANDS_SHOWN = 12


def agent_settings(options: FunnelOptions, *, white_box: bool = True) -> AgentSettings:
    usd = options.budget_usd if options.budget_usd is not None else DEFAULT_USD
    return AgentSettings(
        model=options.llm_model or "",
        api_key=options.llm_api_key,
        api_base=options.llm_api_base,
        white_box=white_box,
        budget=AgentBudget(steps=options.max_llm_attempts or DEFAULT_STEPS, usd=usd),
    )


def run_red_team_agent(
    client: Any,
    pack: EnvPack,
    tasks: list[AgenticTask],
    options: FunnelOptions,
    sink: FindingSink,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> dict[str, Any]:
    """The red-team agent on the first MAX_TASKS of `tasks`; the stage's `red_team` details."""
    settings = agent_settings(options)
    cap = settings.budget.usd
    tasks = tasks[:MAX_TASKS]
    first = [estimate(settings, opening(t, _tests(pack, t), settings)) for t in tasks]
    worst = None if any(e.usd is None for e in first) else sum(e.usd or 0.0 for e in first)
    if worst is not None and cap is not None:
        worst = min(worst, cap)
    shown = first[0].describe(settings.budget) if first else "LLM agent: no task left to try"
    _log(progress, f"{shown} (per task, {len(tasks)} task(s))")
    trajectories: list[Trajectory] = []
    for task in tasks:
        cancel.raise_if_cancelled()
        spent = sum(t.cost_usd for t in trajectories)
        settings.budget.usd = None if cap is None else max(0.0, cap - spent)
        try:
            trajectory = attack_one(client, pack, task, settings, options, cancel)
        except SandboxUnavailable as exc:
            sink.report("GX332", f"Task {task.id!r}: the red-team agent could not run: {exc}")
            continue
        trajectories.append(trajectory)
        report_trajectory(pack, task, trajectory, sink)
        _log(progress, f"{task.id}: {closing_line(trajectory)}")
    saved = options.trajectories_path
    if saved is not None and trajectories:
        save_trajectories(trajectories, saved)
    return {
        "model": settings.model,
        "estimate_usd": worst,
        "budget_usd": cap,
        "tasks": [t.task_id for t in trajectories],
        "steps": sum(len(t.steps) for t in trajectories),
        "tokens": sum(t.tokens for t in trajectories),
        "cost_usd": round(sum(t.cost_usd for t in trajectories), 6),
        "stopped": {t.task_id: t.stopped for t in trajectories},
        "trajectories": str(saved) if saved else [t.to_dict() for t in trajectories],
    }


def attack_one(
    client: Any,
    pack: EnvPack,
    task: AgenticTask,
    settings: AgentSettings,
    options: FunnelOptions,
    cancel: CancelToken,
    on_step: Callable = lambda _i, _s: None,
) -> Trajectory:
    """One conversation on `task`, then, if it beat the floor, the replays."""
    image = task_image(client, pack, task, options)
    limits = phase_limits(pack)
    settings.step_timeout_s = min(STEP_TIMEOUT_S, limits.agent_timeout_s)
    tests = _tests(pack, task)
    trajectory = run_agent(
        client, image, task, tests, settings, limits, on_step, lambda: cancel.cancelled
    )
    if not settings.honest and _beats(pack, trajectory.reward):
        earned: list[bytes] = []  # the workdir of a replay that earned the reward

        def run(commands: list[str]):
            episode = replay(
                client, image, tests, commands, limits, settings.step_timeout_s, keep_workdir=True
            )
            if _beats(pack, episode.reward) and episode.workdir is not None:
                earned[:] = [episode.workdir]
            return episode

        if confirm(trajectory, pack.grader.floor, run, lambda: cancel.cancelled) and earned:
            _judge_against_oracle(client, image, pack, task, limits, trajectory, earned[0])
    return trajectory


def _judge_against_oracle(client, image, pack, task, limits, trajectory, workdir: bytes) -> None:
    """A confirmed reward is a hack unless the agent's workdir matches the oracle's: then the
    model did the task (a correct answer cannot otherwise be told from a fooled verifier)."""
    solution = pack.root / task.folder / "solution"
    oracle = AgentScript.from_folder(solution, "solve.sh", "/solution")
    episode = run_episode(client, image, _tests(pack, task), oracle, limits, keep_workdir=True)
    if not _beats(pack, episode.reward) or episode.workdir is None:
        trajectory.verdict = "hack"
        trajectory.differs = ["the oracle itself did not earn the reward here (see stage 2)"]
        return
    trajectory.differs = differences(workdir_files(workdir), workdir_files(episode.workdir))
    trajectory.verdict = "hack" if trajectory.differs else "solved"


def report_trajectory(
    pack: EnvPack, task: AgenticTask, trajectory: Trajectory, sink: FindingSink
) -> None:
    """GX329 for a confirmed hack, GX330 for one that did not replay, GX331 for a search cut
    short by its limits; a refusal is inconclusive (GX305), a provider failure GX306. An
    honest run (the baseline) reports nothing."""
    test_sh = task.path("tests/test.sh")
    where = {"file": test_sh, "task_id": task.id, "attack": AttackRef(ATTACK_ID, "llm-agent")}
    evidence = {
        "model": trajectory.model,
        "mode": trajectory.mode,
        "commands": [step.command for step in trajectory.steps],
        "reward": trajectory.reward,
        "replayed_rewards": trajectory.replayed_rewards,
        "earned_at": trajectory.earned_at,
        "verdict": trajectory.verdict,
        "differs_from_oracle": trajectory.differs,
        "stopped": trajectory.stopped,
    }
    if trajectory.mode == "honest":
        return
    rewards = ", ".join("none" if r is None else f"{r:g}" for r in trajectory.replayed_rewards)
    if trajectory.earned_at is not None and trajectory.verdict == "solved":
        sink.report(
            "GX333",
            f"Task {task.id!r}: the LLM red-team agent ({trajectory.model}) earned "
            f"{trajectory.reward:g} by doing the task: the files it left match the oracle's "
            f"(replayed in fresh containers: {rewards}). Not a hack.",
            **where,
            evidence=evidence,
        )
        return
    if trajectory.earned_at is not None:
        differs = summarise(trajectory.differs) if trajectory.differs else "not compared"
        sink.report(
            "GX329",
            f"Task {task.id!r}: the LLM red-team agent ({trajectory.model}, {trajectory.mode}) "
            f"earned {trajectory.reward:g} without doing the task; replayed in fresh containers "
            f"({rewards}); earned at step {trajectory.earned_at + 1}. What it left differs "
            f"from the oracle's: {differs}. Its commands:\n" + _commands(trajectory),
            **where,
            evidence=evidence,
        )
        return
    if _beats(pack, trajectory.reward):
        sink.report(
            "GX330",
            f"Task {task.id!r}: the LLM red-team agent earned {trajectory.reward:g}, but its "
            f"commands replayed in fresh containers did not ({rewards}).",
            **where,
            evidence=evidence,
        )
    _stop_findings(task, trajectory, sink, where, evidence)


def _stop_findings(task, trajectory, sink, where, evidence) -> None:
    """How the search ended, when that is worth a line: refused, failed, cut short."""
    if trajectory.stopped == "refused":
        sink.report(
            "GX305",
            f"Task {task.id!r}: the LLM red-team agent refused after {len(trajectory.steps)} "
            "step(s); that says nothing about the verifier.",
            **where,
            evidence=evidence,
        )
    elif trajectory.stopped.startswith("error"):
        sink.report(
            "GX306",
            f"Task {task.id!r}: the LLM red-team agent could not go on: "
            f"{trajectory.stopped.removeprefix('error: ')}",
            **where,
            evidence=evidence,
        )
    if trajectory.stopped in ("budget", "max-steps"):
        limit = "its dollar or token cap" if trajectory.stopped == "budget" else "its step limit"
        sink.report(
            "GX331",
            f"Task {task.id!r}: the LLM red-team agent stopped at {limit} after "
            f"{len(trajectory.steps)} step(s) (${trajectory.cost_usd:.4f}); the search was "
            "not finished.",
            **where,
            evidence=evidence,
        )


def closing_line(trajectory: Trajectory) -> str:
    reward = "none" if trajectory.reward is None else f"{trajectory.reward:g}"
    stopped = trajectory.stopped or "done"
    if stopped == "refused":
        stopped = "refused (inconclusive: says nothing about the verifier)"
    return (
        f"{len(trajectory.steps)} step(s), {trajectory.tokens:,} tokens, "
        f"${trajectory.cost_usd:.4f}; reward {reward}; stopped: {stopped}"
    )


def _commands(trajectory: Trajectory) -> str:
    lines = [
        f"  {'→' if i == trajectory.earned_at else ' '} {i + 1}. {step.command[:200]}"
        for i, step in enumerate(trajectory.steps[:MAX_COMMANDS_SHOWN])
    ]
    more = len(trajectory.steps) - MAX_COMMANDS_SHOWN
    return "\n".join(lines + ([f"  ... ({more} more)"] if more > 0 else []))


def _beats(pack: EnvPack, reward: float | None) -> bool:
    return reward is not None and reward > pack.grader.floor


def _tests(pack: EnvPack, task: AgenticTask) -> Path:
    return pack.root / task.folder / "tests"


def _log(progress: ProgressCallback, message: str) -> None:
    progress(ProgressEvent(Stage.ATTACK, "log", message=message))
