"""The pack card as an HTML page (app/calibrate/card_html.py), its charts, `gauntlet card`, and
bounty calibration targets checked against a card (app/calibrate/targets.py). The cards come
from tests/support/card_samples.py, whose numbers are known: `oracle` passes everything,
`half` passes the first half of the tasks and half the samples of every third task after that,
`wrong` passes nothing."""

from __future__ import annotations

import json
import re

import pytest
from support.card_samples import HOSTILE_REPLY, sample_card

from app.calibrate import card_data
from app.calibrate.card_charts import card_charts
from app.calibrate.card_html import page_with_png_charts, standalone_html
from app.calibrate.targets import MET, NOT_MET, UNMEASURABLE, TargetError, evaluate, parse_targets
from app.cli import main


def test_the_page_records_how_the_card_was_measured_and_escapes_every_reply() -> None:
    page = standalone_html(sample_card())
    assert "<script" not in page.lower()  # the hostile reply is text, not markup
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; the answer is 42" in page
    for words in (
        "Pack card: geometry-qa",
        "openai/oracle",
        "openai/half",
        "2026-12-06T02:00:00+00:00 → 2026-12-06T02:04:10+00:00",
        "4 per task and model",
        "144 in all: 48 made by this run, 96 from the cache, 0 not sampled",
        "$0.0123 spent by this run (cap $5.00); no known price for openai/wrong",
        "Signal share: 0.17",
        "GX403",
        "Why did it fail?",
        "expected 0, got 42",
    ):
        assert words in page, words
    assert page.count("<svg") == 4 and "http://" not in page.replace("http://www.w3.org", "")
    for title in ("Pass rates", "Difficulty ladder", "By tag", "Cost per model"):
        assert f"<h3>{title}</h3>" in page


def test_without_a_fit_the_ladder_is_the_raw_pass_rate_hardest_first() -> None:
    card = sample_card()
    rows = card_data.task_rows(card)
    ladder = card_data.ladder(rows, use_fit=False)
    # task-07, 08, 10, 11: only `oracle` passes (1/3); 06 and 09: `half` passes half (0.5)
    assert [tid for tid, _ in ladder[:4]] == ["task-07", "task-08", "task-10", "task-11"]
    assert ladder[0][1] == pytest.approx(1 / 3) and ladder[4][1] == pytest.approx(0.5)
    chart = next(c for c in card_charts(card) if c.key == "ladder")
    assert "mean raw pass rate" in chart.caption and "no item-response fit" in chart.caption
    assert "a fit needs 3 or more models" in card_data.difficulty_note(card)


def test_with_a_fit_the_ladder_and_the_table_use_the_fitted_difficulty() -> None:
    card = sample_card(fitted=True)
    rows = {r.id: r for r in card_data.task_rows(card)}
    assert rows["task-11"].difficulty == pytest.approx(1.75) and rows["task-11"].discrimination
    assert card_data.ladder(list(rows.values()), use_fit=True)[0][0] == "task-11"
    assert card_data.abilities(card)["openai/half"] == pytest.approx(0.1)
    page = standalone_html(card)
    assert "Discrimination" in page and "<th>Ability</th>" in page
    assert "Difficulty from the 2PL fit" in page


def test_tags_group_the_tasks_and_untagged_tasks_are_one_group_all() -> None:
    card = sample_card()
    groups = card_data.tag_groups(card_data.task_rows(card))
    assert {name: len(rows) for name, rows in groups.items()} == {
        "algebra": 6,
        "geometry": 6,
        "proof": 6,
    }
    for task in card["tasks"]:
        del task["tags"]
    assert list(card_data.tag_groups(card_data.task_rows(card))) == ["all"]
    chart = next(c for c in card_charts(card) if c.key == "tags")
    assert "one group: all" in chart.caption


def test_a_sparse_or_odd_card_still_reads() -> None:
    """An old card, a run that stopped early, or a hand-edited file: never a traceback."""
    page = standalone_html({"schema": "gauntlet-card/1"})
    assert "No task was calibrated" in page and "<svg" not in page
    odd = sample_card()
    odd["tasks"][0]["per_model"]["openai/half"]["pass_at_1"] = float("nan")
    odd["tasks"][1] = "not a task"
    odd["difficulty"] = {"fitted": True, "tasks": [{"id": "task-00", "difficulty": "hard"}]}
    odd["cost"] = None
    page = standalone_html(odd)
    assert "task-02" in page and "task-01" not in page.split("<h2>Tasks")[1].split("Why")[0]


def test_the_app_version_carries_the_charts_as_png_images() -> None:
    page, images = page_with_png_charts(sample_card())
    assert set(images) == {f"card-{k}.png" for k in ("histogram", "ladder", "tags", "cost")}
    assert all(png.startswith(b"\x89PNG") for png in images.values())
    assert all(f'src="{name}"' in page for name in images)


def test_targets_are_met_not_met_or_not_measurable_as_the_numbers_say() -> None:
    targets = parse_targets(
        [
            {"metric": "signal_share", "comparator": ">=", "value": 0.6, "model": "openai/half"},
            {"metric": "signal_share", "comparator": "<", "value": 0.2},
            {"metric": "pass_rate", "comparator": ">=", "value": 0.9, "model": "openai/oracle"},
            {"metric": "pass_rate", "comparator": ">=", "value": 0.5},
            {"metric": "always_solved_share", "comparator": "<=", "value": 0.5},
            {"metric": "never_solved_share", "comparator": "<=", "value": 0.0},
            {"metric": "tasks", "comparator": ">=", "value": 12},
            {"metric": "pass_rate", "comparator": ">", "value": 0.1, "model": "lab/reference"},
        ]
    )
    results = evaluate(targets, sample_card())
    got = [(r.status, r.measured) for r in results]
    assert got == [
        (NOT_MET, pytest.approx(2 / 12)),  # half: 0.5 on task-06 and task-09 only
        (MET, pytest.approx(2 / 12)),
        (MET, 1.0),
        (NOT_MET, 0.0),  # `wrong` falls short, and is named
        (MET, 0.0),  # no task is solved by all three
        (MET, 0.0),  # `oracle` solves every task
        (MET, 12.0),
        (UNMEASURABLE, None),
    ]
    assert results[3].note == "0 on openai/wrong"
    assert results[7].note == "the card has no samples from lab/reference"
    page = standalone_html(sample_card(), results)
    assert "Bounty targets (5 of 8 met)" in page and "not measurable" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"metric": "signal_share"}, "must be a list"),
        ([{"metric": "vibes", "comparator": ">=", "value": 1}], "metric 'vibes' is not one of"),
        ([{"metric": "tasks", "comparator": "=>", "value": 1}], "comparator '=>' is not one of"),
        ([{"metric": "pass_rate", "comparator": ">=", "value": 60}], "a share between 0 and 1"),
        ([{"metric": "tasks", "comparator": ">=", "value": "10"}], "must be a finite number"),
        ([{"metric": "tasks", "comparator": ">=", "value": 1, "modle": "x"}], "unknown field"),
        ([{"metric": "tasks", "comparator": ">=", "value": 1, "model": ""}], "model must be"),
    ],
)
def test_bad_targets_say_which_and_why(data, message) -> None:
    with pytest.raises(TargetError, match=re.escape(message)):
        parse_targets(data)


def test_gauntlet_card_writes_the_page_with_the_targets(tmp_path, capsys) -> None:
    card_path, out = tmp_path / "card.json", tmp_path / "out" / "card.html"
    card_path.write_text(json.dumps(sample_card()), encoding="utf-8")
    targets = tmp_path / "targets.json"
    targets.write_text('[{"metric": "tasks", "comparator": ">=", "value": 10}]')
    code = main(["card", str(card_path), "--html", str(out), "--targets", str(targets)])
    assert code == 0, capsys.readouterr().err
    page = out.read_text(encoding="utf-8")
    assert "Bounty targets (1 of 1 met)" in page and HOSTILE_REPLY not in page


@pytest.mark.parametrize(
    ("card", "targets", "message"),
    [
        ("{not json", None, "not valid JSON"),
        ('{"schema": "gauntlet-report/1"}', None, "not a gauntlet-card/1 pack card"),
        (None, "[{}]", "metric None is not one of"),
        (None, "[oops", "the targets are not valid JSON"),
    ],
)
def test_gauntlet_card_bad_input_is_a_clear_error(tmp_path, capsys, card, targets, message):
    card_path = tmp_path / "card.json"
    card_path.write_text(card or json.dumps(sample_card()), encoding="utf-8")
    argv = ["card", str(card_path), "--html", str(tmp_path / "card.html")]
    if targets is not None:
        (tmp_path / "t.json").write_text(targets)
        argv += ["--targets", str(tmp_path / "t.json")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "card.html").exists()
