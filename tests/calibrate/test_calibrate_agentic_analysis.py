"""The card's statistics for agentic tasks and for runs cut short, without Docker: graded samples
made by hand go through the same analysis as a real run's."""

from __future__ import annotations

from pathlib import Path

from support.agentic_packages import TASK, agentic_files
from support.envpack_packages import write_files

from app.calibrate.analysis import analyse, task_ids, task_tags
from app.calibrate.grading import Graded, Grading
from app.calibrate.irt import difficulty_block
from app.calibrate.sampling import Sample, SampleRequest
from app.envpack.loader import load_envpack
from app.sandbox.base import GradingResult


def _pack(tmp_path: Path):
    files = agentic_files()
    files[f"{TASK}/task.toml"] = '[metadata]\ntags = ["csv", "arithmetic", 3]\n'
    loaded = load_envpack(write_files(tmp_path / "pack", files))
    assert loaded.ok, loaded.findings
    return loaded.pack


def _graded(model: str, index: int, reward: float) -> Graded:
    request = SampleRequest(model, "sum-b", index, ())
    sample = Sample(request, "$ echo 3", 10, 5, None, "done", False)
    return Graded(sample, GradingResult(f"s:{index}", reward), reward >= 1.0)


def _grading(graded: list[Graded], *, oracle_passes: bool) -> Grading:
    return Grading(graded, {"sum-b": oracle_passes}, "docker", False, None)


def test_an_agentic_task_no_model_solves_though_its_oracle_passes_is_gx402(tmp_path) -> None:
    pack = _pack(tmp_path)
    assert task_ids(pack) == ["sum-b"] and task_tags(pack, "sum-b") == ["csv", "arithmetic"]
    graded = [_graded("openai/wrong", i, 0.0) for i in range(2)]
    stats = analyse(pack, ["openai/wrong"], 2, _grading(graded, oracle_passes=True))
    entry = stats["tasks"][0]
    assert entry["per_model"]["openai/wrong"]["pass_at_1"] == 0.0
    assert entry["failures"][0]["response"] == "$ echo 3" and entry["format_failures"] is None
    assert "not applicable" in stats["format_note"]
    (finding,) = stats["findings"]
    assert finding["code"] == "GX402" and finding["file"] == f"{TASK}/instruction.md"
    # the oracle fails too: nothing can solve it, so no "too hard" finding
    stats = analyse(pack, ["openai/wrong"], 2, _grading(graded, oracle_passes=False))
    assert stats["findings"] == []


def test_tasks_a_model_did_not_sample_are_fitted_on_what_they_have_and_named() -> None:
    models = ["strong", "middle", "weak"]
    counts = {
        "easy": {"strong": (4, 4), "middle": (4, 4), "weak": (3, 4)},
        "medium": {"strong": (4, 4), "middle": (2, 4), "weak": (1, 4)},
        "hard": {"strong": (2, 4), "middle": (0, 4), "weak": (0, 4)},
        "late": {"strong": (1, 4)},  # the budget stopped the run before the others sampled it
    }
    block = difficulty_block(models, counts)
    assert block["fitted"] and block["partial"] == ["late"]
    assert "1 task(s) not sampled by every model (late)" in block["reason"]
    tasks = block["tasks"]
    assert tasks["easy"]["difficulty"] < tasks["medium"]["difficulty"] < tasks["hard"]["difficulty"]
    # one model's 4 samples pin `late` less than three models' 12 pin `medium`
    assert tasks["late"]["difficulty_se"] > tasks["medium"]["difficulty_se"]
    full = difficulty_block(models, {k: v for k, v in counts.items() if k != "late"})
    assert full["partial"] == [] and "not sampled by every model" not in full["reason"]
