"""One episode of an agentic task in Docker (DESIGN §4.1): agent phase, then verifier phase.

The agent phase runs a script (the oracle, a negative, a cheating agent, or nothing), or the
LLM agent's commands step by step, in a hardened box made from the task image
(app.sandbox.agentic_box); tests/ and solution/ are not there. The workdir is then copied out,
and in `separate` mode the verifier runs in a fresh box that receives that copy and tests/
(owned by root, so read-only to it). The trusted side parses the reward. Containers are always
removed; screening may reuse them (WarmBoxes), confirmation never does. With an allowlist
(`limits.egress`), the agent's box is on a network of its own with a proxy (app.sandbox.egress);
the verifier never has a network.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.sandbox.agentic_box import (
    AGENT_USER,
    EMPTY_TAR,
    REWARD_DIR,
    ROOT_USER,
    WORKDIR,
    PhaseLimits,
    ResetFailed,
    exec_io,
    pristine_workdir,
    remove_box,
    run_step,
    start_box,
    tar_of,
    tar_out,
    untar,
)
from app.sandbox.egress import Egress

__all__ = ["PhaseLimits"]  # re-exported: callers describe limits along with episodes


@dataclass(slots=True)
class Episode:
    """What one agent did and what the verifier made of it."""

    reward: float | None = None
    error: str | None = None  # "agent-timeout" | "verifier-timeout" | "no-reward" | ...
    detail: str = ""
    agent_exit: int | None = None
    agent_output: str = ""
    verifier_exit: int | None = None
    verifier_output: str = ""
    workdir: bytes | None = None  # a tar of what the verifier was given, when asked for
    # the agent's requests through the allowlist proxy: {"method", "host", "port", "allowed",
    # "status", "reason"?}; empty without an allowlist
    egress: list[dict[str, Any]] = field(default_factory=list)
    # a rubric grader: criterion name -> {"score", "error", "detail"} (app/sandbox/rubric.py)
    criteria: dict[str, dict[str, Any]] = field(default_factory=dict)

    def blocked(self, limit: int = 5) -> list[str]:
        """The requests the allowlist refused, as "host:port (why)", each once, at most `limit`."""
        seen: list[str] = []
        for entry in self.egress:
            if entry.get("allowed") is False:
                where = f"{entry.get('host', entry.get('target', '?'))}:{entry.get('port', '')}"
                shown = f"{where.rstrip(':')} ({entry.get('reason', 'not HTTP')})"
                if shown not in seen:
                    seen.append(shown)
        return seen[:limit]


@dataclass(slots=True)
class AgentScript:
    """What runs as the agent: `command` in the workdir, with `files` placed under `folder`."""

    command: list[str]
    files: dict[str, bytes]
    folder: str = "/agent"

    @classmethod
    def nothing(cls) -> AgentScript:
        return cls(["true"], {})

    @classmethod
    def from_folder(cls, folder: Path, script: str, mount: str) -> AgentScript:
        return cls(["bash", f"{mount}/{script}"], folder_files(folder), mount)


def run_episode(
    client: Any,
    image: str,
    tests_dir: Path,
    agent: AgentScript,
    limits: PhaseLimits,
    warm: WarmBoxes | None = None,
    *,
    keep_workdir: bool = False,
) -> Episode:
    """Run `agent` on a fresh copy of the task's workdir, then the verifier; never raises for
    what the package does (only SandboxUnavailable when Docker itself fails). With `warm`,
    the containers are reset and reused instead of created (screening; see WarmBoxes).
    `keep_workdir` keeps the workdir the verifier saw on the episode (to compare outputs)."""
    phase = AgentPhase(client, image, limits, warm, (agent.folder, agent.files))
    phase.keep_workdir = keep_workdir
    try:
        started = time.monotonic()
        code, out = phase.run(agent.command, limits.agent_timeout_s)
        phase.episode.agent_exit, phase.episode.agent_output = code, out
        if code in (124, 137) and time.monotonic() - started >= limits.agent_timeout_s:
            phase.episode.error = "agent-timeout"
            phase.episode.detail = f"{limits.agent_timeout_s:g} s"
        elif code == 137:  # killed early: the memory limit (tmpfs files count toward it)
            phase.episode.error = "agent-killed"
            phase.episode.detail = f"killed before its time limit (memory_mb {limits.memory_mb})"
        return phase.finish(tests_dir)
    finally:
        phase.close()


class AgentPhase:
    """An agent phase driven step by step (a script is one step; the LLM agent's shell tool
    takes many), then `finish` runs the verifier. Every step ends with every process of the
    agent user killed, so nothing runs between steps or into the verifier phase; except in the
    shared verifier mode, which runs as Harbor does: what the agent left running keeps running
    into the verifier (the hole GX326 shows). `files`
    (folder, {name: bytes}) are placed where only root writes (/agent): the agent reads them."""

    def __init__(
        self,
        client: Any,
        image: str,
        limits: PhaseLimits,
        warm: WarmBoxes | None = None,
        files: tuple[str, dict[str, bytes]] = ("/agent", {}),
    ) -> None:
        self.client, self.image, self.limits, self.warm = client, image, limits, warm
        self.episode = Episode()
        self._files = files
        self._pending: bytes | None = None  # a reused box's reset, done by its first exec
        self._egress: Egress | None = None  # a fresh box's own network and proxy
        self.box: Any = None
        if warm is not None:
            self.box, self._pending = warm.agent_box(*files)
        else:
            try:
                if limits.egress is not None:
                    self._egress = Egress(client, limits.egress)
                self.box = start_box(client, image, limits, egress=_options(self._egress))
                untar(self.box, files[0], tar_of(files[1]), user=ROOT_USER)
            except BaseException:
                self.close()
                raise
        self._finished = False
        self.keep_workdir = False  # True: the episode keeps the workdir the verifier saw

    def run(self, command: list[str], timeout_s: float) -> tuple[int | None, str]:
        """One step as the agent user: (exit code, output tail); 124/137 = killed at timeout_s."""
        reset, self._pending = self._pending, None
        linger = self.limits.shared  # as Harbor runs it: nothing is stopped between steps
        try:
            step = run_step(self.box, command, timeout_s, reset=reset, linger=linger)
        except ResetFailed:
            assert self.warm is not None
            self.box = self.warm.replace("agent", *self._files)
            step = run_step(self.box, command, timeout_s, linger=linger)
        return step.code, step.output

    def finish(self, tests_dir: Path) -> Episode:
        """Run the verifier on what the agent left, and read the reward (once)."""
        if self._finished:
            return self.episode
        self._finished = True
        if self._pending is not None:  # no step ran: the reused box still needs its reset
            self.run(["true"], 10)
        isolated = self._end_agent_network()
        tests = tar_of(folder_files(tests_dir))
        if self.limits.shared:
            if self.keep_workdir:  # the agent's processes keep running into the verifier
                self.episode.workdir = tar_out(self.box, WORKDIR, self.limits.disk_mb, kill=False)
            untar(self.box, "/tests", tests, user=ROOT_USER)
            _verify(self.box, self.limits, self.episode)
            if isolated and self.warm is not None:
                self.warm.discard("agent")  # off its network: the next episode gets a new box
            return self.episode
        snapshot = tar_out(self.box, WORKDIR, self.limits.disk_mb)
        if self.keep_workdir:
            self.episode.workdir = snapshot
        if self.warm is not None:
            box, pending = self.warm.verifier_box(snapshot, tests)
            try:
                _verify(box, self.limits, self.episode, reset=pending)
            except ResetFailed:
                box = self.warm.replace("verifier", "/tests", tests, snapshot)
                _verify(box, self.limits, self.episode)
            return self.episode
        remove_box(self.box)
        verifier = start_box(self.client, self.image, self.limits, pristine=False)
        try:
            untar(verifier, WORKDIR, snapshot, user=AGENT_USER)
            untar(verifier, "/tests", tests, user=ROOT_USER)
            _verify(verifier, self.limits, self.episode)
        finally:
            remove_box(verifier)
        return self.episode

    def _end_agent_network(self) -> bool:
        """Keep what the agent asked the proxy; the verifier gets no network, even shared
        (then the box is taken off its network: True)."""
        egress = self._egress or (self.warm.egress if self.warm is not None else None)
        if egress is None:
            return False
        self.episode.egress = egress.take_log()
        if self.limits.shared:
            egress.isolate(self.box)
        return self.limits.shared

    def close(self) -> None:
        if self.warm is None:
            remove_box(self.box)
            if self._egress is not None:
                self._egress.close()
                self._egress = None


# The folders only root writes, emptied, then the phase's files (tar on stdin) put into $1.
_RESET_ROOT = """
find /agent /tests /solution -mindepth 1 -delete 2>/dev/null
tar -x --no-same-owner -m -C "$1" -f -
"""


class WarmBoxes:
    """The containers of one task image, reused across screening episodes: before each one
    they are reset (every agent process killed, the writable mounts emptied, the workdir
    refilled) instead of recreated. A box that does not come back clean is replaced. Only
    screening uses them: a hit is confirmed in fresh containers."""

    def __init__(self, client: Any, image: str, limits: PhaseLimits) -> None:
        self.client, self.image, self.limits = client, image, limits
        self.egress: Egress | None = None  # the agent box's network, kept while reused
        self._boxes: dict[str, Any] = {}
        self._loaded: dict[str, tuple[str, bytes]] = {}  # role -> (folder, tar) root placed

    def agent_box(self, folder: str, files: dict[str, bytes]) -> tuple[Any, bytes | None]:
        """The agent's box and, when reused, the workdir its first exec must reset to."""
        workdir = pristine_workdir(self.client, self.image)
        return self._claim("agent", folder, tar_of(files), workdir)

    def verifier_box(self, snapshot: bytes, tests: bytes) -> tuple[Any, bytes | None]:
        """The verifier's box (tests/ in /tests) and, when reused, the workdir to reset to."""
        return self._claim("verifier", "/tests", tests, snapshot)

    def replace(self, role: str, folder: str, files: dict | bytes, workdir: bytes = b"") -> Any:
        """A new box for `role`, its workdir and root's folder filled (the old one is gone)."""
        remove_box(self._boxes.pop(role, None))
        content = files if isinstance(files, bytes) else tar_of(files)
        egress = None
        if role == "agent":
            workdir = pristine_workdir(self.client, self.image)
            if self.limits.egress is not None and self.egress is None:
                self.egress = Egress(self.client, self.limits.egress)
            egress = _options(self.egress)
        box = start_box(self.client, self.image, self.limits, pristine=False, egress=egress)
        self._boxes[role] = box
        untar(box, WORKDIR, workdir, user=AGENT_USER)
        untar(box, folder, content, user=ROOT_USER)
        self._loaded[role] = (folder, content)
        return box

    def discard(self, role: str) -> None:
        """Remove `role`'s box: the next episode starts a new one."""
        remove_box(self._boxes.pop(role, None))
        self._loaded.pop(role, None)

    def close(self) -> None:
        for box in self._boxes.values():
            remove_box(box)
        self._boxes.clear()
        if self.egress is not None:
            self.egress.close()
            self.egress = None

    def _claim(
        self, role: str, folder: str, content: bytes, workdir: bytes
    ) -> tuple[Any, bytes | None]:
        box = self._boxes.get(role)
        if box is None:
            return self.replace(role, folder, content, workdir), None
        # root's folders are unwritable to the agent and the verifier: unchanged content stays
        if self._loaded.get(role) != (folder, content) and not _refill(box, folder, content):
            return self.replace(role, folder, content, workdir), None
        self._loaded[role] = (folder, content)
        return box, workdir


def _refill(box: Any, folder: str, files: bytes) -> bool:
    """Empty root's folders of a used box and put `files` (a tar) into `folder`."""
    command = ["timeout", "-s", "KILL", "30", "sh", "-c", _RESET_ROOT, "reset", folder]
    try:
        code, _ = exec_io(box, command, user=ROOT_USER, stdin=files or EMPTY_TAR)
    except Exception:  # noqa: BLE001 - a dead or unreachable container is replaced
        return False
    return code == 0


def _options(egress: Egress | None) -> dict[str, Any] | None:
    return egress.box_options() if egress is not None else None


def folder_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def _verify(box: Any, limits: PhaseLimits, episode: Episode, *, reset: bytes | None = None) -> None:
    """Run tests/test.sh (already in /tests) and read the reward it left, in one exec."""
    timeout_s = limits.verifier_timeout_s
    command = ["bash", "/tests/test.sh"]
    # shared: the agent's container as it was left, background processes and all
    step = run_step(box, command, timeout_s, reset=reset, reward=True, linger=limits.shared)
    episode.verifier_exit, episode.verifier_output = step.code, step.output
    if step.code in (124, 137):
        episode.error = episode.error or "verifier-timeout"
        episode.detail = episode.detail or f"{timeout_s:g} s"
    if limits.rubric is not None:
        from app.sandbox.agentic_rubric import rubric_reward

        reward, problem, episode.criteria = rubric_reward(limits.rubric, step.reward_files)
    else:
        reward, problem = reward_from_files(step.reward_files)
    episode.reward = reward
    if problem and episode.error is None:
        episode.error, episode.detail = "no-reward", problem


def reward_from_files(files: dict[str, bytes]) -> tuple[float | None, str]:
    """The reward in the files the verifier left, parsed on the trusted side, or (None, what
    is wrong)."""
    text = files.get("reward.txt")
    if text is not None:
        return parse_reward(text.decode("utf-8", "replace"), "reward.txt")
    raw = files.get("reward.json")
    if raw is not None:
        return parse_reward_json(raw.decode("utf-8", "replace"))
    return None, f"the verifier wrote neither {REWARD_DIR}/reward.txt nor reward.json"


def parse_reward(text: str, name: str) -> tuple[float | None, str]:
    try:
        value = float(text.strip())
    except ValueError:
        return None, f"{name} holds {text.strip()[:40]!r}, not one number"
    if not math.isfinite(value):
        return None, f"{name} holds {value}, not a finite number"
    return value, ""


def parse_reward_json(text: str) -> tuple[float | None, str]:
    import json

    try:
        value = json.loads(text)
    except ValueError:
        return None, "reward.json is not valid JSON"
    if isinstance(value, dict):  # Harbor: {"reward": x, ...other metrics}
        value = value.get("reward", next(iter(value.values()), None) if len(value) == 1 else None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, 'reward.json must hold a number or {"reward": number}'
    return parse_reward(str(value), "reward.json")
