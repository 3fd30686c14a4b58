"""The contamination probe's pieces (app/calibrate/contamination.py), without a model: which
probes are asked, and when a reply counts as a reproduced answer or a verbatim continuation."""

from __future__ import annotations

import pytest
from support.llm_personas import HONEST_ANSWER, HONEST_CONTINUATION

from app.calibrate import contamination as probe
from app.calibrate.sampling import Sample
from app.envpack.loader import load_envpack
from app.resources import resource_path

PROMPT = "Give the IUPAC name of the compound CH3CH2OH. Reply with the name only."


@pytest.fixture(scope="module")
def pack():
    return load_envpack(resource_path("templates", "qa-exact")).pack


def test_the_prompt_is_split_after_half_its_words() -> None:
    prefix, rest = probe.split_prompt(PROMPT)
    assert prefix == "Give the IUPAC name of the compound"
    assert rest == " CH3CH2OH. Reply with the name only." and prefix + rest == PROMPT
    assert probe.split_prompt("What is 2 + 2?") is None  # a rest this short can be guessed
    assert probe.split_prompt("one") is None


def test_a_verbatim_continuation_scores_1_and_an_honest_one_stays_below_the_threshold() -> None:
    prefix, rest = probe.split_prompt(PROMPT)
    assert probe.continuation_similarity(rest, prefix, rest) == 1.0
    # Case, spacing and a repeated prefix do not hide a verbatim continuation.
    echoed = f"{prefix.upper()}   ch3ch2oh.\nReply with the name only.  And more text after it."
    assert probe.continuation_similarity(echoed, prefix, rest) == 1.0
    assert probe.continuation_similarity(HONEST_CONTINUATION, prefix, rest) < 0.5
    near = " CH3CH2OH. Reply with its name only."  # one word changed: still near-verbatim
    assert probe.SIMILARITY_THRESHOLD <= probe.continuation_similarity(near, prefix, rest) < 1
    other = " CH3OH. Give the systematic name in full."
    assert probe.continuation_similarity(other, prefix, rest) < probe.SIMILARITY_THRESHOLD


def test_a_reference_counts_only_as_a_whole() -> None:
    assert probe.holds_reference("Ethanol", ["ethanol"])
    assert probe.holds_reference("The answer is ethanol.", ["ethanol"])
    assert not probe.holds_reference("methanol", ["ethanol"])
    assert not probe.holds_reference(HONEST_ANSWER, ["ethanol"])
    long = "def add(a, b):\n    return a + b  # the sum of the two numbers, nothing else"
    assert probe.holds_reference(long.replace("two", "2"), [probe.normalise(long)])


def test_probes_are_asked_only_where_a_reply_can_tell(pack, tmp_path) -> None:
    requests = probe.probe_requests(pack, ["m1", "m2"])
    kinds = {(r.model, r.task_id, r.kind) for r in requests}
    assert len(kinds) == len(requests) == 2 * 2 * len(pack.tasks)
    answer = next(r for r in requests if r.kind == probe.ANSWER)
    text = answer.messages[0][1]
    assert answer.task_id in text and pack.task(answer.task_id).prompt not in text
    short = load_envpack(resource_path("templates", "qa-numeric")).pack
    kinds = {r.kind for r in probe.probe_requests(short, ["m1"])}
    assert kinds == {probe.PREFIX}  # answers like "50" can be guessed: not probed


def test_the_memorised_replies_are_flagged_and_the_honest_ones_are_not(pack) -> None:
    requests = probe.probe_requests(pack, ["memo", "honest"])
    right = {s.task_id: s.response for s in pack.solutions}

    def reply(request) -> str:
        if request.model == "honest":
            return HONEST_ANSWER if request.kind == probe.ANSWER else HONEST_CONTINUATION
        if request.kind == probe.ANSWER:
            return right[request.task_id]
        return probe.split_prompt(pack.task(request.task_id).prompt)[1]

    samples = [Sample(r, reply(r), 1, 1, None, "stop", False) for r in requests]
    block, findings = probe.analyse_probes(pack, ["memo", "honest"], samples)
    assert block["tasks_probed"] == block["tasks_flagged"] == len(pack.tasks)
    assert {f.task_id for f in findings} == {t.id for t in pack.tasks}
    assert all(f.code == "GX404" and "memo" in f.message for f in findings)
    assert all("honest" not in f.message for f in findings)
    honest = block["tasks"]["alcohol-1"]["honest"]
    assert not honest["answer"]["reproduced"] and not honest["prefix"]["reproduced"]
    assert block["tasks"]["alcohol-1"]["memo"]["prefix"]["similarity"] == 1.0


@pytest.mark.parametrize(
    ("reference", "guessable"),
    [
        ("yes", True),
        ("90.0", True),
        ("1000", True),
        ("-0.050", True),
        ("3.14159", False),
        ("1234", False),
        ("6.022e23", False),
        ("ethanol", False),
    ],
)
def test_short_answers_and_round_numbers_are_not_probed(reference, guessable) -> None:
    assert probe.guessable(reference) is guessable
