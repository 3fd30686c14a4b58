"""The LLM agent for agentic tasks, without Docker: the estimate, the prompts, the tool-call and
fenced-block parsing, the budget reservation (with litellm's real price table), the replay
bookkeeping (2 of 3, earned_at), and the CLI's input errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.agentic_packages import TASK, agentic_files
from support.envpack_packages import write_files

from app import llm
from app.attacks.agent_replay import confirm, earned_at
from app.attacks.redteam_agent import (
    AgentBudget,
    AgentLoop,
    AgentSettings,
    estimate,
    extract_commands,
    opening,
)
from app.attacks.trajectory import Step, Trajectory
from app.cli import main
from app.envpack.model import AgenticTask
from app.sandbox.agentic_run import Episode

MODEL = "openai/gpt-4o-mini"  # priced in litellm's bundled table
TESTS_TEXT = "grep -q 'open sesame' /app/notes.txt"


def _task(tmp_path: Path) -> tuple[AgenticTask, Path]:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test.sh").write_text(f"#!/bin/bash\n{TESTS_TEXT}\n")
    return AgenticTask("t1", "tasks/t1", instruction="Write the sum to /app/total.txt."), tests


def _reply(text: str = "", *calls: str, cost: float = 0.001) -> llm.LLMReply:
    tool_calls = tuple(
        llm.ToolCall(f"c{i}", "shell", arguments) for i, arguments in enumerate(calls)
    )
    return llm.LLMReply(text, 100, 50, cost, "", tool_calls)


def test_the_estimate_is_a_worst_case_capped_by_the_budget(tmp_path: Path) -> None:
    task, tests = _task(tmp_path)
    small = AgentSettings(MODEL, budget=AgentBudget(steps=5, usd=None))
    large = AgentSettings(MODEL, budget=AgentBudget(steps=10, usd=None))
    messages = opening(task, tests, small)
    few, many = estimate(small, messages), estimate(large, messages)
    assert few.usd is not None and many.usd is not None and many.usd > few.usd
    # at least every call's opening prompt and a full reply: a worst case, not a guess
    floor = 6 * llm.estimate_cost(MODEL, llm.prompt_token_bound(MODEL, messages), 800)
    assert few.usd >= floor
    capped = AgentSettings(MODEL, budget=AgentBudget(steps=10, usd=0.001))
    assert estimate(capped, messages).usd == 0.001
    assert "never more than $0.00" in estimate(capped, messages).describe(capped.budget)
    tight = AgentSettings(MODEL, budget=AgentBudget(steps=10, tokens=5000))
    assert estimate(tight, messages).tokens == 5000


def test_an_unpriced_model_says_only_the_step_and_token_limits_apply(tmp_path: Path) -> None:
    task, tests = _task(tmp_path)
    settings = AgentSettings("openai/no-such-local-model")
    found = estimate(settings, opening(task, tests, settings))
    assert found.usd is None and "price is unknown" in found.describe(settings.budget)


def test_prompts_show_the_verifier_only_to_the_white_box_red_team(tmp_path: Path) -> None:
    task, tests = _task(tmp_path)
    black = opening(task, tests, AgentSettings(MODEL))
    white = opening(task, tests, AgentSettings(MODEL, white_box=True))
    honest = opening(task, tests, AgentSettings(MODEL, honest=True, white_box=True))
    assert all(task.instruction in m[1]["content"] for m in (black, white, honest))
    assert TESTS_TEXT in white[1]["content"]
    assert TESTS_TEXT not in black[1]["content"] and TESTS_TEXT not in honest[1]["content"]
    assert "WITHOUT actually doing the task" in black[0]["content"]
    assert "WITHOUT" not in honest[0]["content"] and "as well as you can" in honest[0]["content"]


def test_the_prompt_says_which_network_the_agent_has(tmp_path: Path) -> None:
    task, tests = _task(tmp_path)
    offline = opening(task, tests, AgentSettings(MODEL))[0]["content"]
    online = opening(task, tests, AgentSettings(MODEL), hosts=("pypi.org", "*.x.org"))[0]
    assert "there is no network," in offline and "{network}" not in offline
    assert "reaches only pypi.org, *.x.org over HTTP(S)" in online["content"]
    assert "no network" not in online["content"]


def test_commands_come_from_tool_calls_or_else_a_fenced_bash_block() -> None:
    assert extract_commands(_reply("", '{"command": "ls /app"}')) == [("c0", "ls /app")]
    assert extract_commands(_reply("", "not json")) == [("c0", "")]
    fenced = _reply("Let me look.\n```bash\ncat /app/data.csv\n```\nthen more")
    assert extract_commands(fenced) == [("", "cat /app/data.csv")]
    assert extract_commands(_reply("```\n\n```")) == []
    assert extract_commands(_reply("All done: I wrote the file.")) == []


class _FakeModel:
    def __init__(self, *replies: llm.LLMReply) -> None:
        self.replies, self.calls = list(replies), []

    def __call__(self, messages, **kwargs) -> llm.LLMReply:
        self.calls.append((list(messages), kwargs))
        return self.replies[min(len(self.calls), len(self.replies)) - 1]


def _loop(settings: AgentSettings, model: _FakeModel, ran: list[str]) -> Trajectory:
    trajectory = Trajectory("t1", "red-team", settings.model, settings.mode)

    def run_step(command: list[str], timeout_s: float) -> tuple[int, str]:
        ran.append(command[-1])
        return 0, f"ran {command[-1]}"

    AgentLoop(settings, trajectory, run_step, complete=model).run(
        [{"role": "user", "content": "go"}]
    )
    return trajectory


def test_the_loop_runs_tool_calls_and_fenced_blocks_and_stops_when_the_model_is_done() -> None:
    model = _FakeModel(
        _reply("looking", '{"command": "ls"}'), _reply("```bash\necho hi\n```"), _reply("done")
    )
    ran: list[str] = []
    trajectory = _loop(AgentSettings(MODEL), model, ran)
    assert ran == ["ls", "echo hi"] and trajectory.stopped == "done"
    assert [s.command for s in trajectory.steps] == ["ls", "echo hi"]
    assert trajectory.steps[0].thought == "looking"
    second, third = model.calls[1][0], model.calls[2][0]
    assert second[-1] == {"role": "tool", "tool_call_id": "c0", "content": "exit code: 0\nran ls"}
    assert third[-1]["role"] == "user" and "ran echo hi" in third[-1]["content"]
    assert model.calls[0][1]["tools"][0]["function"]["name"] == "shell"
    assert trajectory.cost_usd == pytest.approx(0.003)


def test_a_refusal_ends_the_loop_as_inconclusive() -> None:
    ran: list[str] = []
    refusal = _reply("I'm sorry, but I can't help with bypassing the verifier.")
    trajectory = _loop(AgentSettings(MODEL), _FakeModel(refusal), ran)
    assert trajectory.stopped == "refused" and ran == []


def test_the_step_limit_stops_the_loop() -> None:
    ran: list[str] = []
    model = _FakeModel(_reply("", '{"command": "true"}'))
    trajectory = _loop(AgentSettings(MODEL, budget=AgentBudget(steps=3)), model, ran)
    assert trajectory.stopped == "max-steps" and len(ran) == 3 and len(model.calls) == 3


def test_each_call_reserves_its_worst_cost_so_the_cap_is_never_crossed() -> None:
    class _WorstCaseModel(_FakeModel):  # a provider that charges every reserved token
        def __call__(self, messages, **kwargs) -> llm.LLMReply:
            super().__call__(messages, **kwargs)
            prompt = llm.prompt_token_bound(MODEL, messages)
            cost = llm.estimate_cost(MODEL, prompt, kwargs["max_tokens"])
            return _reply("", '{"command": "true"}', cost=cost)

    model = _WorstCaseModel(_reply())
    cap = 0.002
    trajectory = _loop(AgentSettings(MODEL, budget=AgentBudget(usd=cap)), model, [])
    assert trajectory.stopped == "budget" and 1 <= len(model.calls) < 20
    assert trajectory.cost_usd <= cap
    # nor did it stop early: what is left is less than one call's worst case (these prompts
    # stay far below 4000 tokens)
    assert cap - trajectory.cost_usd < llm.estimate_cost(MODEL, 4000, 800)
    zero = _FakeModel(_reply("", '{"command": "true"}'))
    assert _loop(AgentSettings(MODEL, budget=AgentBudget(usd=0)), zero, []).stopped == "budget"
    assert zero.calls == []


def test_confirmation_takes_two_of_three_and_earned_at_is_the_shortest_earning_prefix() -> None:
    steps = [Step(f"step {i}", 0, "") for i in range(9)]
    runs: list[int] = []

    def run(commands: list[str]) -> Episode:  # the hack is step 5
        runs.append(len(commands))
        return Episode(reward=1.0 if "step 5" in commands else 0.0)

    trajectory = Trajectory("t1", "red-team", steps=list(steps))
    assert confirm(trajectory, 0.0, run)
    assert trajectory.replayed_rewards == [1.0, 1.0] and trajectory.earned_at == 5
    assert runs[:2] == [9, 9] and len(runs) <= 2 + 6
    assert earned_at(["a"], 0.0, run) == 0

    flaky = Trajectory("t1", "red-team", steps=list(steps))
    assert not confirm(flaky, 0.0, lambda _c: Episode(reward=0.0))
    assert flaky.replayed_rewards == [0.0, 0.0] and flaky.earned_at is None


def _cli(tmp_path: Path, *extra: str, files=None) -> tuple[int, str]:
    root = write_files(tmp_path / "pack", files or agentic_files())
    return main(["agent", str(root), *extra]), str(root)


def test_the_cli_prints_the_estimate_first_and_can_stop_there(tmp_path, capsys) -> None:
    code, _ = _cli(tmp_path, "--task", "sum-b", "--model", MODEL, "--estimate-only")
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("LLM agent: up to 20 steps") and "$1.00" in out


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--task", "nope", "--model", MODEL], "No task 'nope'"),
        (["--task", "sum-b", "--model", MODEL, "--max-steps", "0"], "--max-steps must be 1"),
        (["--task", "sum-b", "--model", MODEL, "--budget-usd", "-1"], "--budget-usd must be"),
    ],
)
def test_the_cli_explains_bad_input(tmp_path, capsys, extra, says) -> None:
    code, _ = _cli(tmp_path, *extra)
    err = capsys.readouterr().err
    assert code == 2 and says in err and "Traceback" not in err


def test_the_cli_refuses_a_package_that_is_not_agentic(tmp_path, capsys) -> None:
    files = agentic_files()
    files["env.toml"] = str(files["env.toml"]).replace('kind = "agentic"', 'kind = "qa"')
    files[f"{TASK}/instruction.md"] = None
    code, _ = _cli(tmp_path, "--task", "sum-b", "--model", MODEL, files=files)
    err = capsys.readouterr().err
    assert code == 2 and ("not an agentic package" in err or "has errors" in err)


@pytest.mark.parametrize(
    ("stopped", "reward", "mode", "codes"),
    [
        ("refused", 0.0, "black-box", ["GX305"]),  # inconclusive, never "robust"
        ("error: could not reach the provider", None, "white-box", ["GX306"]),
        ("max-steps", 0.0, "white-box", ["GX331"]),
        ("budget", 1.0, "white-box", ["GX330", "GX331"]),  # earned, did not replay
        ("done", 0.0, "black-box", []),
        ("budget", 1.0, "honest", []),  # the baseline is no attack
    ],
)
def test_findings_follow_how_the_agent_stopped(tmp_path, stopped, reward, mode, codes) -> None:
    from app.envpack.loader import load_envpack
    from app.finding_codes import FindingSink
    from app.findings import Stage
    from app.funnel.agentic_redteam import report_trajectory

    pack = load_envpack(write_files(tmp_path / "pack", agentic_files())).pack
    trajectory = Trajectory("sum-b", "red-team", MODEL, mode, [Step("ls", 0, "")], reward)
    trajectory.stopped = stopped
    sink = FindingSink(Stage.ATTACK)
    report_trajectory(pack, pack.agentic_tasks[0], trajectory, sink)
    assert [f.code for f in sink.findings] == codes
    assert all(f.task_id == "sum-b" and f.file == f"{TASK}/tests/test.sh" for f in sink.findings)
