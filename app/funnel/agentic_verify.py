"""Funnel stage 2 for agentic packages: the gates of DESIGN §4.1 (GX220-GX227).

Per task, in fresh hardened containers (app.sandbox.agentic_run): the oracle must reach the
pass threshold, and score the same on a second run; the no-op agent and every negative must
score the floor; a probe agent must find no copy of tests/ or solution/ in the agent phase;
and every verifier run must leave a valid reward. Tasks run in parallel, one worker per core.
"""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.envpack.model import AgenticTask, EnvPack
from app.finding_codes import FindingSink
from app.findings import Finding, Stage
from app.funnel.pipeline import FunnelOptions
from app.funnel.report import StageResult, StageStatus, stage_status_for
from app.progress import CancelToken, ProgressCallback, ProgressEvent, ignore_progress
from app.sandbox.agentic_run import AgentScript, Episode, PhaseLimits, run_episode
from app.sandbox.base import SandboxUnavailable
from app.sandbox.egress import EgressPolicy

TAIL = 300  # characters of a phase's output quoted in a finding
PROBE_MIN_BYTES = 32
PROCESS_REFUSED = (
    "agentic tasks run only in Docker: an agent needs a container of its own, which the "
    "process backend cannot give it"
)  # shorter files (a lone "1") match by chance
# Walks the agent's view of the filesystem and prints files whose hash is one of tests/solution's.
PROBE = r"""
import hashlib, os, sys
wanted = set(open('/agent/wanted').read().split())
for top, dirs, files in os.walk('/', onerror=lambda e: None):
    if top in ('/proc', '/sys', '/dev', '/agent'):
        dirs[:] = []; continue
    for name in files:
        path = os.path.join(top, name)
        try:
            if os.path.islink(path) or os.path.getsize(path) > (1 << 20): continue
            with open(path, 'rb') as handle: digest = hashlib.sha256(handle.read()).hexdigest()
        except OSError:
            continue
        if digest in wanted: print('LEAK', digest, path)
"""


@dataclass(slots=True)
class TaskOutcome:
    task: AgenticTask
    episodes: dict[str, Episode] = field(default_factory=dict)  # "oracle", "noop", "neg:<n>"
    leaks: list[tuple[str, str]] = field(default_factory=list)  # (package file, agent path)
    error: str | None = None


def run_agentic_verify_stage(
    pack: EnvPack,
    options: FunnelOptions,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> tuple[StageResult, list[Finding]]:
    from app.sandbox.containers import remove_leftovers
    from app.sandbox.docker_backend import docker_client

    cancel = cancel or CancelToken()
    if options.backend == "process":
        return _could_not_run(PROCESS_REFUSED, "start Docker; `gauntlet sandbox doctor` says how")
    try:
        client = docker_client()
    except SandboxUnavailable as exc:
        return _could_not_run(str(exc), exc.hint)
    remove_leftovers(client)
    tasks = pack.agentic_tasks
    done = 0
    lock = threading.Lock()

    def one(task: AgenticTask) -> TaskOutcome:
        nonlocal done
        outcome = _run_task(client, pack, task, options, cancel, progress)
        with lock:
            done += 1
            progress(ProgressEvent(Stage.VERIFY, "progress", done, len(tasks), f"ran {task.id}"))
        return outcome

    progress(ProgressEvent(Stage.VERIFY, "progress", 0, len(tasks), "running agentic gates"))
    jobs = options.jobs or max(1, min(len(tasks), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="agentic-gate") as pool:
        outcomes = list(pool.map(one, tasks))
    cancel.raise_if_cancelled()
    sink = FindingSink(Stage.VERIFY)
    for outcome in outcomes:
        judge_outcome(pack, outcome, sink)
    details: dict[str, Any] = {
        "backend": "docker",
        "tasks": len(tasks),
        "episodes": sum(len(o.episodes) for o in outcomes),
        "task_rewards": {o.task.id: {k: e.reward for k, e in o.episodes.items()} for o in outcomes},
        "rewards": _chart_rewards(pack, outcomes),
    }
    if pack.grader.is_rubric:  # each episode's criterion scores, as qa/code rubrics report them
        details["criteria"] = {
            o.task.id: {k: criterion_scores(e) for k, e in o.episodes.items()} for o in outcomes
        }
    return StageResult(
        Stage.VERIFY, stage_status_for(sink.findings), details=details
    ), sink.findings


def _chart_rewards(pack: EnvPack, outcomes: list[TaskOutcome]) -> dict[str, Any]:
    """The rewards in the shape the report's chart reads (as stage 2 of qa/code packages)."""
    buckets: dict[str, list[float]] = {"references": [], "negatives": [], "empty": []}
    for outcome in outcomes:
        for key, episode in outcome.episodes.items():
            bucket = "references" if key.startswith("oracle") else "empty"
            bucket = "negatives" if key.startswith("neg:") else bucket
            if episode.reward is not None:
                buckets[bucket].append(episode.reward)
    summary: dict[str, Any] = {
        name: {"count": len(values), "values": values} for name, values in buckets.items()
    }
    summary.update(floor=pack.grader.floor, pass_threshold=pack.grader.pass_threshold)
    return summary


def _could_not_run(reason: str, hint: str = "") -> tuple[StageResult, list[Finding]]:
    details = {"reason": reason + (f" ({hint})" if hint else "")}
    return StageResult(Stage.VERIFY, StageStatus.ERROR, details=details), []


def _run_task(
    client: Any,
    pack: EnvPack,
    task: AgenticTask,
    options: FunnelOptions,
    cancel: CancelToken,
    progress: ProgressCallback = ignore_progress,
) -> TaskOutcome:
    outcome = TaskOutcome(task)
    folder = pack.root / task.folder
    try:
        image = task_image(client, pack, task, options)
        limits = phase_limits(pack)
        oracle = AgentScript.from_folder(folder / "solution", "solve.sh", "/solution")
        agents = {"oracle": oracle, "oracle-again": oracle, "noop": AgentScript.nothing()}
        for name in task.negatives:
            script = (folder / "negatives" / f"{name}.sh").read_bytes()
            agents[f"neg:{name}"] = AgentScript(["bash", "/agent/run.sh"], {"run.sh": script})
        for key, agent in agents.items():
            cancel.raise_if_cancelled()
            episode = run_episode(client, image, folder / "tests", agent, limits)
            outcome.episodes[key] = episode
            progress(ProgressEvent(Stage.VERIFY, "log", message=episode_log(task.id, key, episode)))
        outcome.leaks = _probe(client, image, folder, limits)
    except SandboxUnavailable as exc:
        outcome.error = f"{exc} ({exc.hint})" if exc.hint else str(exc)
    return outcome


LOG_TAIL_LINES = 6  # of each container's output, in the live log


def episode_log(task_id: str, key: str, episode: Episode) -> str:
    """One episode for the live log: its reward and exit codes, then the tail of what the agent's
    and the verifier's containers printed."""
    reward = "none" if episode.reward is None else f"{episode.reward:g}"
    head = f"{task_id} · {key}: reward {reward} (agent exit {episode.agent_exit}, verifier exit "
    head += f"{episode.verifier_exit})" + (f", {episode.error}" if episode.error else "")
    lines = [head]
    for name, text in (("agent", episode.agent_output), ("verifier", episode.verifier_output)):
        tail = [line for line in text.splitlines() if line.strip()][-LOG_TAIL_LINES:]
        lines += [f"  {name} | {line[:200]}" for line in tail]
    return "\n".join(lines)


def task_image(client: Any, pack: EnvPack, task: AgenticTask, options: FunnelOptions) -> str:
    """The task's image: its own environment/Dockerfile, else the package's, else the default;
    someone else's Dockerfile is built only when the operator allows it."""
    from app.sandbox.images import build_folder_image, default_image

    default = options.image or default_image()
    for folder in (pack.root / task.folder / "environment", pack.root / "environment"):
        if (folder / "Dockerfile").is_file():
            if not (options.own_package or options.allow_package_dockerfile):
                raise SandboxUnavailable(
                    f"{folder.relative_to(pack.root)}/Dockerfile is someone else's; not built",
                    "read it first; to build it (offline, limited) pass --allow-package-dockerfile",
                )
            return build_folder_image(client, folder, default)
    return default


def phase_limits(pack: EnvPack) -> PhaseLimits:
    manifest = pack.manifest
    return PhaseLimits(
        cpus=manifest.sandbox.cpus,
        memory_mb=manifest.sandbox.memory_mb,
        disk_mb=manifest.sandbox.disk_mb,
        agent_timeout_s=manifest.agent.timeout_s,
        verifier_timeout_s=manifest.verifier.timeout_s,
        shared=manifest.verifier.mode == "shared",
        egress=egress_policy(pack),
        rubric=manifest.grader if manifest.grader.is_rubric else None,
    )


def egress_policy(pack: EnvPack) -> EgressPolicy | None:
    """The agent phase's allowlist (enforced by a proxy), or None: no network at all."""
    agent = pack.manifest.agent
    return EgressPolicy(tuple(agent.hosts)) if agent.network == "allowlist" else None


def _probe(client: Any, image: str, folder: Path, limits: PhaseLimits) -> list[tuple[str, str]]:
    """Which files of tests/ and solution/ the agent phase can read, and where."""
    hidden: dict[str, str] = {}
    for part in ("tests", "solution"):
        for path in sorted((folder / part).rglob("*")):
            if path.is_file() and not path.is_symlink() and path.stat().st_size >= PROBE_MIN_BYTES:
                hidden[hashlib.sha256(path.read_bytes()).hexdigest()] = path.relative_to(
                    folder
                ).as_posix()
    if not hidden:
        return []
    files = {"probe.py": PROBE.encode(), "wanted": "\n".join(hidden).encode()}
    probe = AgentScript(["python3", "-I", "/agent/probe.py"], files)
    episode = run_episode(client, image, folder / "tests", probe, limits)
    leaks = []
    for line in episode.agent_output.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0] == "LEAK" and parts[1] in hidden:
            leaks.append((hidden[parts[1]], parts[2]))
    return leaks


def judge_outcome(pack: EnvPack, outcome: TaskOutcome, sink: FindingSink) -> None:
    """Turn one task's episodes into GX22x findings."""
    task, grader = outcome.task, pack.grader
    if outcome.error:
        sink.report("GX226", f"Task {task.id!r}: {outcome.error}", file=task.path("tests/test.sh"))
        return
    for key, episode in outcome.episodes.items():
        _phase_problems(task, key, episode, sink, grader.reward_range)
    oracle, again = outcome.episodes.get("oracle"), outcome.episodes.get("oracle-again")
    solve = task.path("solution/solve.sh")
    if oracle and oracle.reward is not None and oracle.reward < grader.pass_threshold:
        sink.report(
            "GX220",
            f"Task {task.id!r}: the oracle scored {oracle.reward:g} "
            f"(pass threshold {grader.pass_threshold:g}); solve.sh exited {oracle.agent_exit}, "
            f"the verifier {oracle.verifier_exit}. Verifier said: {_tail(oracle)}"
            + _blocked(oracle),
            file=solve,
        )
    if oracle and oracle.reward is not None and oracle.reward >= grader.pass_threshold:
        for name, score in criterion_scores(oracle).items():
            if score is not None and score < grader.pass_threshold:
                sink.report(
                    "GX215",
                    f"Task {task.id!r}: the oracle passes overall ({oracle.reward:g}) but "
                    f'criterion "{name}" scores {score:g}, below pass_threshold '
                    f"{grader.pass_threshold:g}.",
                    file=solve,
                    task_id=task.id,
                    evidence={"criteria": criterion_scores(oracle)},
                )
    if oracle and again and oracle.reward != again.reward:
        sink.report(
            "GX223",
            f"Task {task.id!r}: the oracle scored {oracle.reward} then {again.reward}.",
            file=solve,
        )
    for key, episode in outcome.episodes.items():
        if not (key == "noop" or key.startswith("neg:")) or episode.reward is None:
            continue
        if episode.reward > grader.floor:
            if key == "noop":
                message = f"Task {task.id!r}: an agent that does nothing scores {episode.reward:g}."
                sink.report("GX221", message, file=task.path("tests/test.sh"))
            else:
                name = key.removeprefix("neg:")
                message = f"Task {task.id!r}: negative {name!r} scores {episode.reward:g}."
                sink.report("GX222", message, file=task.path(f"negatives/{name}.sh"))
    for source, seen_at in outcome.leaks:
        sink.report(
            "GX224",
            f"Task {task.id!r}: {source} can be read by the agent at {seen_at}.",
            file=task.path(source),
        )


def criterion_scores(episode: Episode) -> dict[str, float | None]:
    return {name: c.get("score") for name, c in episode.criteria.items()}


def _phase_problems(task, key, episode, sink, reward_range) -> None:
    test = task.path("tests/test.sh")
    who = {"noop": "the no-op agent", "oracle": "the oracle", "oracle-again": "the oracle"}.get(
        key, f"negative {key.removeprefix('neg:')!r}"
    )
    if episode.error in ("agent-timeout", "verifier-timeout"):
        phase = "agent" if episode.error == "agent-timeout" else "verifier"
        message = f"Task {task.id!r}: the {phase} phase of {who} ran past {episode.detail}."
        sink.report("GX227", message, file=test)
    elif episode.error == "no-reward":
        message = (
            f"Task {task.id!r}, after {who}: {episode.detail}. Verifier said: {_tail(episode)}"
        )
        sink.report("GX225", message, file=test)
    elif episode.reward is not None and not reward_range[0] <= episode.reward <= reward_range[1]:
        message = (
            f"Task {task.id!r}, after {who}: reward {episode.reward:g} is outside "
            f"{list(reward_range)}."
        )
        sink.report("GX225", message, file=test)
        episode.reward = None  # not compared as a score


def _blocked(episode: Episode) -> str:
    """What the network allowlist refused the agent: often why an oracle fails."""
    blocked = episode.blocked()
    return f" The network allowlist blocked: {'; '.join(blocked)}." if blocked else ""


def _tail(episode: Episode) -> str:
    text = " ".join(episode.verifier_output.split())
    return (text[-TAIL:] or "(no output)") if text else "(no output)"
