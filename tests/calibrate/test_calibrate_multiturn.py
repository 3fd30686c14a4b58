"""`gauntlet calibrate` on multi-turn packages: the model plays each conversation, through
litellm → the scripted OpenAI-compatible server, offered the package's tools; every round of
turns is replayed in one Docker sandbox batch, and the last replay's grade is the sample's.

Model personas (the server's callable sees each request: the conversation so far and the tools):
on mt-analyst `careful` queries the orders then answers right, `hasty` answers right without
looking; on mt-intake `interviewer` asks three questions then files the summary, `rushed` files
a summary at once.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from support.fake_llm import ScriptedLLMServer
from support.services import docker_available, need, sandbox_image_available

from app.calibrate.sampling import CACHE_VERSION, CompletionCache, SampleRequest
from app.cli import main
from app.resources import resource_path


def _tasks(package: Path) -> dict[str, dict]:
    """prompt -> task record."""
    lines = (package / "tasks.jsonl").read_text(encoding="utf-8").splitlines()
    return {t["prompt"]: t for t in (json.loads(line) for line in lines if line.strip())}


def _task_of(tasks: dict[str, dict], request: dict) -> dict:
    return tasks[next(m["content"] for m in request["messages"] if m["role"] == "user")]


class Analysts:
    def __init__(self, package: Path, completion_tokens: int = 5) -> None:
        self.tasks, self.tokens = _tasks(package), completion_tokens

    def __call__(self, request: dict) -> dict:
        task = _task_of(self.tasks, request)
        queried = any(m["role"] == "tool" for m in request["messages"])
        if request["model"] != "hasty" and not queried:
            call = {"name": "query_orders", "arguments": {"region": task["region"]}}
            return {"content": "", "tool_calls": [call], "completion_tokens": self.tokens}
        return {"content": f"Answer: {task['answer']:.2f}", "completion_tokens": self.tokens}


class Interviewers:
    QUESTIONS = ("Your full name?", "On what date did it happen?", "What happened?")

    def __init__(self, package: Path) -> None:
        self.tasks = _tasks(package)

    def __call__(self, request: dict) -> str:
        task = _task_of(self.tasks, request)
        heard = sum(m["role"] == "user" for m in request["messages"]) - 1  # after the opening
        if request["model"] == "interviewer" and heard < len(self.QUESTIONS):
            return self.QUESTIONS[heard]
        summary = task["answer"] if request["model"] == "interviewer" else {"name": "?"}
        return "Summary:\n```json\n" + json.dumps(summary) + "\n```"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    need(
        "docker sandbox",
        docker_available() and sandbox_image_available(),
        "needs a running Docker engine and the sandbox image",
    )
    monkeypatch.setenv("GAUNTLET_HOME", str(tmp_path / "home"))  # a fresh completion cache
    monkeypatch.setenv("GAUNTLET_LLM_API_KEY", "test-key")
    return tmp_path


def _template(name: str, home: Path) -> Path:
    return Path(shutil.copytree(resource_path("templates", name), home / name))


def _calibrate(package: Path, server, models: list[str], *extra: str) -> int:
    argv = ["calibrate", str(package), "--samples", "1", "--llm-api-base", server.url]
    argv += ["--backend", "docker", *(a for m in models for a in ("--model", m)), *extra]
    return main(argv)


def _card(package: Path) -> dict:
    return json.loads((package / ".gauntlet" / "card.json").read_text(encoding="utf-8"))


@pytest.mark.docker
def test_the_analyst_who_queries_passes_and_the_one_who_guesses_fails_used_the_data(
    home, capsys
) -> None:
    package = _template("mt-analyst", home)
    with ScriptedLLMServer([Analysts(package)]) as server:
        assert _calibrate(package, server, ["openai/careful", "openai/hasty"]) == 0
        first = list(server.requests)
        err = capsys.readouterr().err
        assert _calibrate(package, server, ["openai/careful", "openai/hasty"]) == 0
        assert len(server.requests) == len(first)  # the re-run played every turn from the cache
    # careful: a tool call, then the answer; hasty: the answer. 4 tasks each.
    assert len(first) == 4 * 2 + 4
    assert "8 conversations to play: up to 32 requests" in err and "upper bound" in err
    offered = {t["function"]["name"] for t in first[0]["tools"]}
    assert offered == {"list_regions", "query_orders", "calculate"}
    second_turns = [r for r in first if any(m["role"] == "tool" for m in r["messages"])]
    assert len(second_turns) == 4  # the tool results came back from the sandbox's replay
    assert all(json.loads(r["messages"][-1]["content"]) for r in second_turns)
    assert all(set(r["messages"][-1]) == {"role", "tool_call_id", "content"} for r in second_turns)
    card = _card(package)
    careful, hasty = (card["per_model"][m] for m in ("openai/careful", "openai/hasty"))
    assert (careful["passed"], careful["samples"], hasty["passed"], hasty["samples"]) == (
        4,
        4,
        0,
        4,
    )
    assert card["requests"]["cache_hits"] == 12 and card["requests"]["made"] == 0
    played = card["sampling"]["multi_turn"]
    assert played["sandbox_rounds"] == 2 and played["max_turns"] == 4  # one batch per round
    assert (
        "conversation" in card["sampling"]["prompt"]
        and "query_orders" in card["sampling"]["prompt"]
    )
    failure = next(t for t in card["tasks"] if t["id"] == "north-march")["failures"][0]
    assert failure["model"] == "openai/hasty"
    assert failure["criteria"] == {"correct-total": 1.0, "used-the-data": 0.0}
    assert "used-the-data 0.00" in failure["feedback"]
    assert failure["response"].endswith("assistant: Answer: 200.00")
    assert [m["role"] for m in failure["conversation"]] == ["user", "assistant"]
    assert all(t["reference_passes"] for t in card["tasks"])
    assert all(t["format_failures"] is None for t in card["tasks"])


@pytest.mark.docker
def test_the_interviewer_who_asks_then_summarises_passes_the_intake(home) -> None:
    package = _template("mt-intake", home)
    with ScriptedLLMServer([Interviewers(package)]) as server:
        assert _calibrate(package, server, ["openai/interviewer", "openai/rushed"]) == 0
        requests = list(server.requests)
    assert "tools" not in requests[0]  # no tools.py: none offered
    assert requests[0]["messages"][0]["role"] == "system"
    card = _card(package)
    assert card["per_model"]["openai/interviewer"]["pass_at_1"] == 1.0
    assert card["per_model"]["openai/rushed"]["pass_at_1"] == 0.0
    # interviewer: 3 questions and the summary, for each of 3 tasks. rushed: the client has
    # more to say after its summary, so it is heard out too (and summarises wrongly 4 times).
    assert len(requests) == 2 * 3 * 4 and card["sampling"]["multi_turn"]["sandbox_rounds"] == 4
    last = [r for r in requests if r["model"] == "interviewer"][-1]["messages"]
    assert [m["role"] for m in last[-2:]] == ["assistant", "user"]  # the client's scripted reply
    assert last[-1]["content"] in {u for t in _tasks(package).values() for u in t["user"]}


@pytest.mark.docker
def test_a_run_cut_by_the_provider_resumes_without_asking_cached_turns_again(home, capsys) -> None:
    package = _template("mt-analyst", home)
    analysts = Analysts(package)
    answered = {"n": 0}

    def failing_after_six(request: dict):
        answered["n"] += 1
        return analysts(request) if answered["n"] <= 6 else {"status": 503, "content": "down"}

    models = ["openai/careful", "openai/hasty"]
    with ScriptedLLMServer([failing_after_six]) as server:
        assert _calibrate(package, server, models, "--concurrency", "1") == 2
    err = capsys.readouterr().err
    assert "run the same command again" in err and "Traceback" not in err
    with ScriptedLLMServer([analysts]) as server:
        assert _calibrate(package, server, models, "--json") == 0
        asked = len(server.requests)
    card = json.loads(capsys.readouterr().out)
    assert asked == 12 - 6 and card["requests"]["cache_hits"] == 6
    assert card["requests"]["made"] == 6 and card["complete"]


@pytest.mark.docker
def test_the_budget_cap_counts_every_turn_and_a_cut_conversation_is_not_a_failure(
    home, capsys
) -> None:
    package = _template("mt-analyst", home)
    analysts = Analysts(package, completion_tokens=100)
    models = ["openai/gpt-4o-mini"]  # priced, so the cap counts it
    cap = ["--max-tokens", "100", "--concurrency", "1", "--budget-usd", "0.0005"]
    with ScriptedLLMServer([analysts]) as server:
        assert _calibrate(package, server, models, *cap) == 1
        made = len(server.requests)
    assert "stopped at the budget cap" in capsys.readouterr().err
    card = _card(package)
    cost, requests = card["cost"], card["requests"]
    assert cost["stopped_by_budget"] and cost["spent_usd"] <= 0.0005 and not card["complete"]
    assert 4 < made < 8 and requests["made"] == made  # it stopped inside the second round
    stats = card["per_model"]["openai/gpt-4o-mini"]
    cut = requests["not_sampled"]
    assert cut == 8 - made and stats["samples"] == 4 - cut  # cut conversations: not sampled
    assert stats["passed"] == stats["samples"]  # and none counted as a failure
    with ScriptedLLMServer([analysts]) as server:
        assert _calibrate(package, server, models, *cap[:-1], "5") == 0
        assert len(server.requests) == 8 - made  # the rest only: every earlier turn is cached
    assert _card(package)["per_model"]["openai/gpt-4o-mini"]["pass_at_1"] == 1.0


def test_single_turn_cache_keys_are_unchanged_and_tools_are_part_of_a_turns_key() -> None:
    request = SampleRequest("openai/x", "t1", 0, (("user", "What is 2 + 2?"),))
    params = {"max_tokens": 5, "temperature": 1.0}
    body = {
        "v": CACHE_VERSION,
        "model": "openai/x",
        "messages": [{"role": "user", "content": "What is 2 + 2?"}],
        "params": params,
        "sample": 0,
    }
    old = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode())
    assert CompletionCache.key(request, params) == old.hexdigest()
    chat = json.dumps(request.message_dicts())
    tools = json.dumps([{"type": "function", "function": {"name": "add"}}])
    turn = SampleRequest("openai/x", "t1", 0, request.messages, chat=chat)
    assert CompletionCache.key(turn, params) == old.hexdigest()  # the same conversation
    offered = SampleRequest("openai/x", "t1", 0, request.messages, chat=chat, tools=tools)
    assert CompletionCache.key(offered, params) != old.hexdigest()


def _with_personas(package: Path, personas: list[dict]) -> None:
    """The first len(personas) tasks of the package, each with its persona user."""
    lines = (package / "tasks.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()][: len(personas)]
    for record, persona in zip(records, personas, strict=True):
        record["user"] = persona
    (package / "tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    kept_ids = {r["id"] for r in records}
    for name in ("solutions.jsonl", "negatives.jsonl"):
        kept = [
            line
            for line in (package / name).read_text(encoding="utf-8").splitlines()
            if json.loads(line)["task_id"] in kept_ids
        ]
        (package / name).write_text("\n".join(kept) + "\n")


@pytest.mark.docker
def test_a_persona_user_answers_on_the_host_and_the_conversation_goes_on(home) -> None:
    """A task whose user is a persona: after the analyst's answer the persona (a model on the
    same server) speaks, so the conversation goes on until max_turns; an empty persona reply
    ends it."""
    package = _template("mt-analyst", home)
    thanks = {"persona": "A manager who says thanks.", "model": "openai/manager"}
    _with_personas(package, [thanks, {"persona": "A silent manager.", "model": "openai/silent"}])
    analysts = Analysts(package)

    def server_side(request: dict):
        if request["model"] in ("manager", "silent"):
            return "Thanks, great." if request["model"] == "manager" else ""
        return analysts(request)

    with ScriptedLLMServer([server_side]) as server:
        assert _calibrate(package, server, ["openai/careful"]) == 0
        requests = list(server.requests)
    careful = [r for r in requests if r["model"] == "careful"]
    thanked = [r for r in careful if r["messages"][-1]["content"] == "Thanks, great."]
    # north-march: query, answer, (thanks) answer, (thanks) answer = max_turns 4;
    # south-all: query, answer, and the silent persona ends it
    assert len(careful) == 4 + 2 and len(thanked) == 2
    assert sum(r["model"] == "manager" for r in requests) == 2
    card = _card(package)
    assert card["per_model"]["openai/careful"]["pass_at_1"] == 1.0
    assert card["sampling"]["multi_turn"]["sandbox_rounds"] == 4


@pytest.mark.docker
def test_a_persona_users_replies_count_against_the_cap_and_are_cached(
    home, capsys, monkeypatch
) -> None:
    """The persona is a priced model too: the estimate counts its replies, the cap stops a run
    that its replies would take over it (never past it), and a resumed run asks neither the
    model's turns nor the persona's replies again. A run in another cache measures what the
    whole calibration costs."""
    package = _template("mt-analyst", home)
    manager = {"persona": "A manager who says thanks.", "model": "openai/gpt-4o"}
    _with_personas(package, [manager, manager])
    analysts = Analysts(package, completion_tokens=100)

    def server_side(request: dict):
        if request["model"] == "gpt-4o":
            return {"content": "Thanks, great.", "completion_tokens": 100}
        return analysts(request)

    models, tokens = ["openai/gpt-4o-mini"], ["--max-tokens", "100", "--concurrency", "1"]
    monkeypatch.setenv("GAUNTLET_HOME", str(home / "measure"))
    with ScriptedLLMServer([server_side]) as server:
        assert _calibrate(package, server, models, *tokens, "--json") == 0
        whole = len(server.requests)
        personas = sum(r["model"] == "gpt-4o" for r in server.requests)
    full = json.loads(capsys.readouterr().out)
    # each: query, answer, (thanks) answer, (thanks) answer = max_turns 4: 4 turns, 2 replies
    assert personas == 4 and whole == 8 + personas
    spent = full["cost"]["spent_usd"]
    assert full["cost"]["persona_user"]["replies"] == personas
    assert 0 < full["cost"]["persona_user"]["spent_usd"] < spent

    monkeypatch.setenv("GAUNTLET_HOME", str(home / "capped"))
    cap = round(spent * 0.6, 6)
    with ScriptedLLMServer([server_side]) as server:
        assert _calibrate(package, server, models, *tokens, "--budget-usd", str(cap)) == 1
        made = len(server.requests)
    err = capsys.readouterr().err
    assert "reply" in err and "stopped at the budget cap" in err
    card = _card(package)
    assert card["cost"]["stopped_by_budget"] and card["cost"]["spent_usd"] <= cap
    assert card["requests"]["made"] == made < whole
    with ScriptedLLMServer([server_side]) as server:
        assert _calibrate(package, server, models, *tokens) == 0
        assert len(server.requests) == whole - made  # every earlier turn and reply is cached
    with ScriptedLLMServer([server_side]) as server:
        assert _calibrate(package, server, models, *tokens) == 0
        assert not server.requests
    card = _card(package)
    assert card["cost"]["persona_user"]["cache_hits"] == personas
    assert card["per_model"]["openai/gpt-4o-mini"]["pass_at_1"] == 1.0


@pytest.mark.docker
def test_a_turn_the_provider_refuses_ends_that_conversation_only(home) -> None:
    """A bad request on a later turn (as a conversation grown past the model's context would
    be) ends that conversation, graded as it stood; the others are played to the end."""
    package = _template("mt-analyst", home)
    analysts = Analysts(package)

    def refusing(request: dict):
        late = any(m["role"] == "tool" for m in request["messages"])
        if late and "north region" in request["messages"][0]["content"]:
            return {"status": 400, "content": "maximum context length exceeded"}
        return analysts(request)

    with ScriptedLLMServer([refusing]) as server:
        assert _calibrate(package, server, ["openai/careful"]) == 0
        assert len(server.requests) == 4 * 2
    card = _card(package)
    stats = card["per_model"]["openai/careful"]
    assert (stats["passed"], stats["samples"]) == (3, 4) and card["complete"]
    failure = next(t for t in card["tasks"] if t["id"] == "north-march")["failures"][0]
    assert failure["turns"] == 1 and "refused the next turn" in failure["ended"]
    assert "maximum context length" in failure["ended"]
    assert failure["criteria"] == {"correct-total": 0.0, "used-the-data": 1.0}
