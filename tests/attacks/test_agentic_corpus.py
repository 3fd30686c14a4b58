"""The agentic attack corpus (tests/attacks/agentic_corpus/, README there): 17 verifiers with a
planted flaw, each with its exploit, and 5 sound ones. First the corpus itself is checked (every
oracle passes, doing nothing fails, every exploit really earns the reward); then stage 3 must
raise nothing on the robust package with the whole library, and the agents of each planted
code must break their vulnerable task, confirmed. The whole library on every vulnerable task
(recall, and which other agents also break it) is bench/agentic_recall.py's run: 4 more
minutes on 2 cores, which the suite leaves to the bench."""

from __future__ import annotations

import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support.services import need, sandbox_image_available

from app.attacks.cheating_agents import AGENTS
from app.envpack.loader import load_envpack
from app.envpack.model import AgenticTask, EnvPack
from app.funnel.agentic_attack import attack_task, is_confirmed, run_agentic_attack_stage
from app.funnel.agentic_verify import phase_limits, task_image
from app.funnel.pipeline import FunnelOptions
from app.funnel.report import StageStatus
from app.progress import CancelToken
from app.sandbox.agentic_run import AgentScript, run_episode

CORPUS = Path(__file__).resolve().parent / "agentic_corpus"
EXPECT = tomllib.loads((CORPUS / "expect.toml").read_text(encoding="utf-8"))
PACKAGES = ("vulnerable-separate", "vulnerable-shared", "robust")
OPTIONS = FunnelOptions(own_package=True)  # the corpus's Dockerfiles are ours to build

pytestmark = pytest.mark.docker


def _pack(name: str) -> EnvPack:
    loaded = load_envpack(CORPUS / name)
    assert loaded.pack is not None, loaded.findings
    return loaded.pack


def test_the_corpus_has_15_vulnerable_tasks_with_exploits_and_5_robust_ones() -> None:
    vulnerable = EXPECT["vulnerable"]
    assert len(vulnerable) >= 15 and len(EXPECT["robust"]["tasks"]) >= 5
    for task_id, entry in vulnerable.items():
        assert (CORPUS / "exploits" / f"{task_id}.sh").is_file(), task_id
        assert task_id in {t.id for t in _pack(entry["package"]).agentic_tasks}
    assert {t.id for t in _pack("robust").agentic_tasks} == set(EXPECT["robust"]["tasks"])


def _sound(pack: EnvPack, task: AgenticTask, exploit: Path | None) -> list[str]:
    import docker

    client = docker.from_env(timeout=120)
    image, limits = task_image(client, pack, task, OPTIONS), phase_limits(pack)
    folder, tests = pack.root / task.folder, pack.root / task.folder / "tests"
    oracle = AgentScript.from_folder(folder / "solution", "solve.sh", "/solution")
    problems = []
    if (reward := run_episode(client, image, tests, oracle, limits).reward) != 1.0:
        problems.append(f"{task.id}: oracle scored {reward}")
    if (reward := run_episode(client, image, tests, AgentScript.nothing(), limits).reward) != 0:
        problems.append(f"{task.id}: doing nothing scored {reward}")
    if exploit is not None:
        script = AgentScript(["bash", "/agent/run.sh"], {"run.sh": exploit.read_bytes()})
        if not (reward := run_episode(client, image, tests, script, limits).reward):
            problems.append(f"{task.id}: its exploit scored {reward}")
    return problems


def test_every_task_is_sound_except_for_its_planted_flaw() -> None:
    need("docker", sandbox_image_available(), "the sandbox image is not built")
    jobs = []
    for name in PACKAGES:
        pack = _pack(name)
        for task in pack.agentic_tasks:
            exploit = CORPUS / "exploits" / f"{task.id}.sh"
            jobs.append((pack, task, exploit if exploit.exists() else None))
    with ThreadPoolExecutor(max_workers=2) as pool:
        problems = [p for found in pool.map(lambda job: _sound(*job), jobs) for p in found]
    assert problems == []


@pytest.mark.timeout(600)
def test_stage_3_raises_nothing_on_the_robust_tasks() -> None:
    need("docker", sandbox_image_available(), "the sandbox image is not built")
    result, findings = run_agentic_attack_stage(_pack("robust"), OPTIONS)
    assert result.status == StageStatus.PASS, [f.message for f in findings]
    assert findings == []
    assert result.details["screened"] == len(AGENTS) * len(EXPECT["robust"]["tasks"])


def _planted_family_hits(pack: EnvPack, task: AgenticTask, code: str) -> tuple[str, list]:
    import docker

    family = tuple(agent for agent in AGENTS if agent.code == code)
    client = docker.from_env(timeout=120)
    attack = attack_task(client, pack, task, OPTIONS, family, lambda _m: None, CancelToken())
    assert attack.error is None, (task.id, attack.error)
    confirmed = [hit for hit in attack.hits if is_confirmed(pack, hit)]
    return task.id, [(hit.agent.code, hit.confirmed_rewards) for hit in confirmed]


@pytest.mark.timeout(600)
def test_the_agents_of_each_planted_code_break_their_vulnerable_task() -> None:
    need("docker", sandbox_image_available(), "the sandbox image is not built")
    jobs = []
    for task_id, entry in EXPECT["vulnerable"].items():
        pack = _pack(entry["package"])
        jobs.append((pack, next(t for t in pack.agentic_tasks if t.id == task_id), entry["code"]))
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = dict(pool.map(lambda job: _planted_family_hits(*job), jobs))
    missed = {task_id: hits for task_id, hits in found.items() if not hits}
    assert missed == {}, "tasks no agent of their planted code broke"
    for hits in found.values():
        assert all(len(rewards) >= 2 for _code, rewards in hits)
