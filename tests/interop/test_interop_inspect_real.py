"""The Inspect AI export under the REAL inspect-ai release (.ci/peers/inspect.txt), run in its
own venv (.ci/setup-peers; GAUNTLET_PEER_INSPECT_PYTHON): Inspect's task discovery lists every
exported template, and `inspect_ai.eval` with Inspect's mock model answering with each
reference and negative scores exactly what Gauntlet Studio's own grading gives. One peer
process runs every template. Skips locally without the peer venv; fails on CI."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.interop_templates import HARBOR_TEMPLATES
from support.peers import cases_of, gauntlet_rewards, peer_python, pinned_version, run_probe

from app.envpack.interop import export_inspect
from app.envpack.loader import load_envpack
from app.errors import UserError

PROBE = Path(__file__).with_name("peer_inspect_probe.py")


@pytest.mark.peers
def test_real_inspect_lists_and_scores_every_template_like_gauntlet(template, runtime, tmp_path):
    python = peer_python("inspect")
    exports, expected = [], {}
    for name in HARBOR_TEMPLATES:  # every qa and code template (judge, agentic: see below)
        pack = load_envpack(template(name)).pack
        task = export_inspect(pack.root, tmp_path / "out" / name, runtime)
        cases = cases_of(pack)
        low = pack.grader.reward_range[0]
        rewards = [r if r is not None else low for r in gauntlet_rewards(pack, cases)]
        expected[name] = (task, rewards, len(pack.solutions))
        assert pack.solutions and pack.negatives
        exports.append({"folder": str(tmp_path / "out" / name), "task": task, "cases": cases})
    request = {"exports": exports, "log_dir": str(tmp_path / "logs")}
    result = run_probe(python, PROBE, request, tmp_path)

    assert result["version"] == pinned_version("inspect", "inspect-ai")
    for name, export, got in zip(HARBOR_TEMPLATES, exports, result["exports"], strict=True):
        task, rewards, n_refs = expected[name]
        assert got["errors"] == [], name
        assert got["listed"] == [task], name
        scores = [s["reward"] for s in got["scores"]]
        assert scores == rewards, name
        # the comparison means something: references pass and the rest do not
        assert set(rewards[:n_refs]) == {1.0} and max(rewards[n_refs:]) < 1.0, name
        assert [s["task_id"] for s in got["scores"]] == [c["task_id"] for c in export["cases"]]


@pytest.mark.parametrize(
    ("name", "message"),
    [("qa-judge", "LLM judge"), ("agentic-data", "agentic package")],
)
def test_inspect_export_refuses_what_it_does_not_carry(name, message, template, runtime, tmp_path):
    with pytest.raises(UserError, match=message) as caught:
        export_inspect(template(name), tmp_path / "out", runtime)
    assert "--to" in caught.value.hint
    assert not (tmp_path / "out").exists()


def test_inspect_export_writes_a_task_file_and_its_grading(template, runtime, tmp_path):
    pack = load_envpack(template("qa-python")).pack
    name = export_inspect(pack.root, tmp_path / "out", runtime)
    out = tmp_path / "out"
    assert name == "equation_balancing"
    source = (out / f"{name}.py").read_text()
    assert f"def {name}():" in source and '"equation_balancing_gauntlet"' in source
    assert "__" + "TASK_NAME__" not in source and "__" + "GRADER_PACKAGE__" not in source
    package = out / f"{name}_gauntlet"
    lines = (package / "data" / "tasks.jsonl").read_text().splitlines()
    assert len(lines) == len(pack.tasks)
    assert (package / "data" / "grader").is_dir()
    assert (package / "gauntlet_runtime" / "match.py").is_file()
