"""The agentic attack corpus (tests/attacks/agentic_corpus/, README there): 16 verifiers with a
planted flaw, each with its exploit, and 5 sound ones. First the corpus itself is checked (every
oracle passes, doing nothing fails, every exploit really earns the reward), then stage 3 must
flag every vulnerable task with its planted code and nothing in the robust package."""

from __future__ import annotations

import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support.services import need, sandbox_image_available

from app.envpack.loader import load_envpack
from app.envpack.model import AgenticTask, EnvPack
from app.funnel.agentic_attack import run_agentic_attack_stage
from app.funnel.agentic_verify import phase_limits, task_image
from app.funnel.pipeline import FunnelOptions
from app.funnel.report import StageStatus
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


@pytest.mark.timeout(900)  # 21 tasks x 27 agents: about 3 minutes on 2 cores
def test_stage_3_flags_every_vulnerable_task_and_no_robust_one() -> None:
    need("docker", sandbox_image_available(), "the sandbox image is not built")
    found: dict[str, set[str]] = {}
    for name in PACKAGES:
        result, findings = run_agentic_attack_stage(_pack(name), OPTIONS)
        if name == "robust":
            assert result.status == StageStatus.PASS, [f.message for f in findings]
            assert findings == []
        for finding in findings:
            assert finding.evidence and finding.evidence["steps"], finding
            assert len(finding.evidence["confirm_rewards"]) >= 2
            found.setdefault(finding.task_id or "", set()).add(finding.code)
    missed = {
        task_id: (entry["code"], sorted(found.get(task_id, ())))
        for task_id, entry in EXPECT["vulnerable"].items()
        if entry["code"] not in found.get(task_id, ())
    }
    assert missed == {}, "task: (planted code, codes found)"
