"""Funnel stage 3 for agentic packages: the cheating agents (GX320-GX328, DESIGN §4.1), and the
LLM red-team agent when a model is configured (GX329-GX331, app.attacks.redteam_agent).

Screening: per task, every cheating agent runs once, in containers that are reset and reused
between agents (app.sandbox.agentic_run.WarmBoxes). Confirmation: an agent whose reward beats
the floor runs again in fresh containers, and is reported when it beats the floor in
`CONFIRM_NEEDED` of `CONFIRM_RUNS` runs. One image build per task (cached by content hash);
tasks run in parallel, one worker per core.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from app.attacks.cheating_agents import AGENTS, CheatingAgent, named_outputs
from app.envpack.model import AgenticTask, EnvPack
from app.finding_codes import FindingSink
from app.findings import AttackRef, Finding, Stage
from app.funnel.agentic_verify import phase_limits, task_image
from app.funnel.pipeline import FunnelOptions
from app.funnel.report import StageResult, StageStatus, stage_status_for
from app.progress import CancelToken, ProgressCallback, ProgressEvent, ignore_progress
from app.sandbox.agentic_run import AgentScript, Episode, PhaseLimits, WarmBoxes, run_episode
from app.sandbox.base import SandboxUnavailable

CONFIRM_RUNS = 3
CONFIRM_NEEDED = 2
# A cheating agent is a short script; a slow one is cut here, not at the task's own limit.
SCRIPT_TIMEOUT_S = 30.0
MAX_STEPS_SHOWN = 12


@dataclass(slots=True)
class CheatResult:
    agent: CheatingAgent
    screen: Episode
    confirmations: list[Episode] = field(default_factory=list)

    @property
    def confirmed_rewards(self) -> list[float | None]:
        return [episode.reward for episode in self.confirmations]


@dataclass(slots=True)
class TaskAttack:
    task: AgenticTask
    hits: list[CheatResult] = field(default_factory=list)  # beat the floor when screened
    screened: int = 0
    seconds: float = 0.0
    error: str | None = None


def run_agentic_attack_stage(
    pack: EnvPack,
    options: FunnelOptions,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    agents: tuple[CheatingAgent, ...] = AGENTS,
) -> tuple[StageResult, list[Finding]]:
    from app.sandbox.containers import remove_leftovers
    from app.sandbox.docker_backend import docker_client

    cancel = cancel or CancelToken()
    sink = FindingSink(Stage.ATTACK)
    if options.backend == "process":
        sink.report("GX332", "Cheating agents run only in Docker; the process backend was chosen.")
        return StageResult(Stage.ATTACK, StageStatus.ERROR, details=_why(sink)), sink.findings
    try:
        client = docker_client()
    except SandboxUnavailable as exc:
        sink.report("GX332", f"Docker is not available: {exc}", hint=exc.hint or None)
        return StageResult(Stage.ATTACK, StageStatus.ERROR, details=_why(sink)), sink.findings
    remove_leftovers(client)
    tasks = pack.agentic_tasks
    total = len(tasks) * len(agents)
    done = 0
    lock = threading.Lock()

    def tick(message: str) -> None:
        nonlocal done
        with lock:
            done += 1
            progress(ProgressEvent(Stage.ATTACK, "progress", done, total, message))

    def one(task: AgenticTask) -> TaskAttack:
        return attack_task(client, pack, task, options, agents, tick, cancel)

    progress(ProgressEvent(Stage.ATTACK, "progress", 0, total, "running cheating agents"))
    jobs = options.jobs or max(1, min(len(tasks), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="agentic-attack") as pool:
        results = list(pool.map(one, tasks))
    cancel.raise_if_cancelled()
    for result in results:
        judge_task(pack, result, sink)
    details: dict[str, Any] = {
        "backend": "docker",
        "tasks": len(tasks),
        "agents": len(agents),
        "screened": sum(r.screened for r in results),
        "confirmed": sum(1 for r in results for hit in r.hits if is_confirmed(pack, hit)),
        "seconds_per_task": {r.task.id: round(r.seconds, 2) for r in results},
    }
    if any(r.error for r in results):
        details["reason"] = "; ".join(f"{r.task.id}: {r.error}" for r in results if r.error)
    if options.llm_model:
        details["red_team"] = _red_team(client, pack, results, options, sink, progress, cancel)
    return StageResult(
        Stage.ATTACK, stage_status_for(sink.findings), details=details
    ), sink.findings


def attack_task(
    client: Any,
    pack: EnvPack,
    task: AgenticTask,
    options: FunnelOptions,
    agents: tuple[CheatingAgent, ...],
    tick,
    cancel: CancelToken,
) -> TaskAttack:
    """Screen `agents` on one task in warm containers, then confirm each hit in fresh ones."""
    started = time.perf_counter()
    result = TaskAttack(task)
    tests = pack.root / task.folder / "tests"
    try:
        image = task_image(client, pack, task, options)
        limits = script_limits(pack)
        warm = WarmBoxes(client, image, limits)
        try:
            for agent in agents:
                cancel.raise_if_cancelled()
                episode = run_episode(client, image, tests, agent_script(agent, task), limits, warm)
                result.screened += 1
                tick(f"{task.id}: {agent.id}")
                if beats_floor(pack, episode):
                    result.hits.append(CheatResult(agent, episode))
        finally:
            warm.close()
        for hit in result.hits:
            for _ in range(CONFIRM_RUNS):
                cancel.raise_if_cancelled()
                script = agent_script(hit.agent, task)
                hit.confirmations.append(run_episode(client, image, tests, script, limits))
                if _decided(pack, hit):
                    break
    except SandboxUnavailable as exc:
        result.error = f"{exc} ({exc.hint})" if exc.hint else str(exc)
    result.seconds = time.perf_counter() - started
    return result


def script_limits(pack: EnvPack) -> PhaseLimits:
    limits = phase_limits(pack)
    limits.agent_timeout_s = min(limits.agent_timeout_s, SCRIPT_TIMEOUT_S)
    return limits


def agent_script(agent: CheatingAgent, task: AgenticTask) -> AgentScript:
    # the script goes on the command line: /agent then holds the same files for every agent of
    # the task, so a reused container need not refill it
    outputs = "\n".join(named_outputs(task.instruction))
    files = {"instruction.md": task.instruction.encode(), "outputs": outputs.encode()}
    return AgentScript(["bash", "-c", agent.script, agent.id], files)


def beats_floor(pack: EnvPack, episode: Episode) -> bool:
    return episode.reward is not None and episode.reward > pack.grader.floor


def is_confirmed(pack: EnvPack, hit: CheatResult) -> bool:
    return sum(beats_floor(pack, e) for e in hit.confirmations) >= CONFIRM_NEEDED


def _red_team(client, pack, results, options, sink, progress, cancel) -> dict[str, Any]:
    """The LLM red-team agent on the tasks no cheating agent broke (app.funnel.agentic_redteam)."""
    from app.funnel.agentic_redteam import run_red_team_agent

    left = [
        r.task
        for r in results
        if not r.error and not any(is_confirmed(pack, hit) for hit in r.hits)
    ]
    return run_red_team_agent(client, pack, left, options, sink, progress, cancel)


def _decided(pack: EnvPack, hit: CheatResult) -> bool:
    """Stop confirming once the 2-of-3 outcome cannot change."""
    wins = sum(beats_floor(pack, e) for e in hit.confirmations)
    losses = len(hit.confirmations) - wins
    return wins >= CONFIRM_NEEDED or losses > CONFIRM_RUNS - CONFIRM_NEEDED


def judge_task(pack: EnvPack, result: TaskAttack, sink: FindingSink) -> None:
    task = result.task
    test_sh = task.path("tests/test.sh")
    if result.error:
        sink.report("GX332", f"Task {task.id!r}: {result.error}", file=test_sh, task_id=task.id)
        return
    for hit in result.hits:
        if not is_confirmed(pack, hit):
            continue
        agent = hit.agent
        rewards = ", ".join("none" if r is None else f"{r:g}" for r in hit.confirmed_rewards)
        steps = agent.steps[:MAX_STEPS_SHOWN]
        more = len(agent.steps) - len(steps)
        message = (
            f"Task {task.id!r}: the cheating agent {agent.id!r} ({agent.title}) earned "
            f"{hit.screen.reward:g} without doing the task; confirmed in fresh containers "
            f"({rewards}). Its steps:\n  " + "\n  ".join(steps)
        )
        if more > 0:
            message += f"\n  ... ({more} more)"
        if blocked := hit.screen.blocked():
            message += "\nThe network allowlist blocked it from: " + "; ".join(blocked)
        raised = raised_criteria(pack, hit.screen)
        if raised:
            message += "\nCriteria it scored on: " + ", ".join(raised)
        sink.report(
            agent.code,
            message,
            file=test_sh,
            task_id=task.id,
            attack=AttackRef(agent.id, "cheating-agent"),
            evidence={
                "steps": agent.steps,
                "script": agent.script,
                "screen_reward": hit.screen.reward,
                "confirm_rewards": hit.confirmed_rewards,
                "verifier_output": hit.screen.verifier_output[-2000:],
                "blocked_requests": [e for e in hit.screen.egress if not e.get("allowed")][:50],
                "criteria": {n: c.get("score") for n, c in hit.screen.criteria.items()},
            },
        )


def raised_criteria(pack: EnvPack, episode: Episode) -> list[str]:
    """A rubric's criteria the episode scored above the floor on, as "name (score)"."""
    floor = pack.grader.floor
    return [
        f"{name} ({c['score']:g})"
        for name, c in episode.criteria.items()
        if c.get("score") is not None and c["score"] > floor
    ]


def _why(sink: FindingSink) -> dict[str, Any]:
    return {"reason": sink.findings[-1].message}
