"""Stage 2 for agentic packages in real containers: a sound task passes its gates, and each
gate code (GX220-GX227) has a package that trips it, named at the right task file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.agentic_packages import DOCKERFILE, TASK, Files, agentic_files, put, sub
from support.envpack_packages import write_files
from support.services import need, sandbox_image_available

from app.findings import Stage
from app.funnel.pipeline import FunnelOptions, run_funnel
from app.funnel.report import StageStatus

pytestmark = pytest.mark.docker

TEST = f"{TASK}/tests/test.sh"
LEAKED = "the expected total of column b is twelve, 12\n"


def _verify(tmp_path: Path, *changes: Callable[[Files], None], logs: list[str] | None = None):
    need("docker", sandbox_image_available(), "the sandbox image is not built")
    files = agentic_files()
    for change in changes:
        change(files)
    root = write_files(tmp_path / "pack", files)

    def progress(event) -> None:
        if event.kind == "log" and logs is not None:
            logs.append(event.message)

    options = FunnelOptions(own_package=True)
    report = run_funnel(root, (Stage.STRUCTURE, Stage.VERIFY), options, progress)
    assert report.stage(Stage.STRUCTURE).status in (StageStatus.PASS, StageStatus.WARN)
    return report


def test_a_sound_task_passes_every_gate(tmp_path: Path) -> None:
    logs: list[str] = []
    echo = sub(TEST, "#!/bin/bash\n", "#!/bin/bash\necho checking total.txt\n")
    report = _verify(tmp_path, echo, logs=logs)
    verify = report.stage(Stage.VERIFY)
    assert verify.status == StageStatus.PASS, report.findings
    rewards = verify.details["task_rewards"]["sum-b"]
    assert rewards == {
        "oracle": 1.0,
        "oracle-again": 1.0,
        "noop": 0.0,
        "neg:wrong-column": 0.0,
    }
    chart = verify.details["rewards"]  # what the report's rewards chart draws
    assert chart["references"]["values"] == [1.0, 1.0] and chart["empty"]["values"] == [0.0]
    # the live log has each container's own output, episode by episode
    oracle = next(line for line in logs if line.startswith("sum-b · oracle: reward 1"))
    assert "  verifier | checking total.txt" in oracle.splitlines()
    assert any(line.startswith("sum-b · neg:wrong-column: reward 0") for line in logs)


CASES = {
    "GX220": ([put(f"{TASK}/solution/solve.sh", "#!/bin/bash\necho 11 > /app/total.txt\n")], None),
    # the verifier treats a missing file as a pass
    "GX221": ([sub(TEST, '[ "$(cat /app/total.txt)"', '[ "$(cat /app/total.txt || echo 12)"')],
              TEST),
    "GX222": ([sub(TEST, '= "12" ]', '= "12" ] || [ "$(cat /app/total.txt)" = "3" ]')],
              f"{TASK}/negatives/wrong-column.sh"),
    # a verifier that scores by the clock
    "GX223": ([sub(TEST, "echo 1 > /logs", "echo 0.$(date +%N) > /logs")], None),
    "GX224": ([put(f"{TASK}/tests/expected.txt", LEAKED),
               sub("environment/Dockerfile", "WORKDIR /app",
                   f"RUN printf '{LEAKED.strip()}\\n' > /var/tmp/expected.txt\nWORKDIR /app")],
              f"{TASK}/tests/expected.txt"),
    "GX225": ([put(TEST, "#!/bin/bash\n# writes nothing: /logs/verifier/reward.txt never\n")],
              TEST),
    "GX226": ([put(f"{TASK}/environment/Dockerfile", DOCKERFILE + "RUN false\n")], TEST),
    "GX227": ([put(f"{TASK}/solution/solve.sh", "#!/bin/bash\nsleep 30\n"),
               sub("env.toml", "timeout_s = 60", "timeout_s = 2")], TEST),
}  # fmt: skip


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_gate_code_is_triggered(tmp_path: Path, code: str) -> None:
    changes, file = CASES[code]
    report = _verify(tmp_path, *changes)
    found = [f for f in report.findings if f.code == code]
    assert found, [f"{f.code}: {f.message}" for f in report.findings]
    assert "sum-b" in found[0].message and found[0].hint
    assert found[0].file == (file or f"{TASK}/solution/solve.sh")
    assert report.stage(Stage.VERIFY).status == (
        StageStatus.WARN if code == "GX227" and len(report.errors()) == 0 else StageStatus.FAIL
    )
