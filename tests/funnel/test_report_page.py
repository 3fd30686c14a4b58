"""The report page (app/funnel/report_page.py): charts drawn, every text from the report
escaped, one self-contained file written atomically, and unreadable files refused in words."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.report_samples import HOSTILE, sample_report, sample_report_dict

from app.funnel.report import Report
from app.funnel.report_page import (
    ReportFileError,
    export_html,
    load_report,
    page_with_png_charts,
    standalone_html,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_page_has_a_chart_for_rewards_attacks_and_time():
    page = standalone_html(sample_report())
    labels = re.findall(r'<svg[^>]*aria-label="([^"]+)"', page)
    assert labels == ["Rewards by role", "Attacks per category", "Time per stage"]
    # the rows of the charts are the roles and categories of the report
    for word in ("references (3)", "negatives (1)", "attack: answer-format (1)", "parser"):
        assert word in page
    assert "Tighten the comparison" in page and "GX301" in page
    assert "reward hack reaches the pass threshold" in page  # the title from the catalogue


def test_text_from_the_report_stays_text():
    page = standalone_html(sample_report())
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in page
    assert "<script" not in page.lower() and "<img" not in page.lower()


def test_hostile_labels_in_charts_are_escaped_too():
    data = sample_report_dict()
    hit = data["findings"][0]
    hit["attack"]["category"] = "</svg><script>x()</script>$\\frac{1}{0}$"
    data["stages"][2]["details"]["categories"] = {hit["attack"]["category"]: {"candidates": 5}}
    page = standalone_html(Report.from_dict(data))
    assert "<script" not in page.lower() and page.count("</svg>") == 3


def test_the_file_is_self_contained(tmp_path):
    target = tmp_path / "report.html"
    export_html(sample_report(), target)
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    # no stylesheet, font, script or image is fetched: the only address is the hostile text
    page = page.replace(html.escape(HOSTILE), "")
    assert "http" not in page
    assert all(ref.startswith("#") for ref in re.findall(r"url\(([^)]*)\)", page))
    assert "<link" not in page and "@import" not in page and " src=" not in page
    assert all(ref.startswith("#") for ref in re.findall(r'href="([^"]*)"', page))
    assert "<svg" in page and "xlink:href" in page  # the checks above did look at the charts


def test_the_export_replaces_a_file_whole_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("old page", encoding="utf-8")
    export_html(sample_report(), target)
    assert "Gauntlet report: acme/enzyme-kinetics" in target.read_text(encoding="utf-8")
    folder = tmp_path / "taken"
    (folder / "inside").mkdir(parents=True)
    with pytest.raises(OSError):
        export_html(sample_report(), folder)  # the final rename fails: the temp file is removed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "taken"]


def test_the_app_page_takes_png_charts_as_resources():
    page, images = page_with_png_charts(sample_report())
    assert sorted(images) == ["chart-attacks.png", "chart-rewards.png", "chart-stages.png"]
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in images.values())
    assert all(f'src="{name}"' in page for name in images) and "<svg" not in page


def test_a_report_that_stopped_early_has_no_empty_charts():
    data = sample_report_dict()
    data["stages"] = [{"name": "structure", "status": "fail", "duration_s": 0.01}]
    data["findings"] = []
    page = standalone_html(Report.from_dict(data))
    assert re.findall(r'aria-label="([^"]+)"', page) == ["Time per stage"]
    assert "No findings" in page


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "does not exist"),
        ("{", "not valid JSON"),
        ('{"schema": "other/1"}', "not a gauntlet-report/1 report"),
        ('{"schema": "gauntlet-report/1", "findings": [{"code": "GX1"}]}', "lacks 'severity'"),
    ],
)
def test_unreadable_report_files_are_refused_in_words(tmp_path, content, said):
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ReportFileError, match=re.escape(said)):
        load_report(path)
    path.write_text(json.dumps(sample_report_dict()), encoding="utf-8")
    assert load_report(path).package.name == "acme/enzyme-kinetics"


def test_charts_use_agg_and_nothing_the_installer_leaves_out(tmp_path):
    """A GUI backend asked for by the environment is ignored, and drawing the charts imports no
    module that installer/bundle_excludes.py keeps out of the frozen app."""
    script = textwrap.dedent(
        """
        import json, sys
        sys.path.insert(0, sys.argv[1] + "/installer")
        sys.path.insert(0, sys.argv[1] + "/tests")
        from bundle_excludes import EXCLUDED_MODULES
        from support.report_samples import sample_report
        from app.funnel.report_page import page_with_png_charts, standalone_html
        standalone_html(sample_report()); page_with_png_charts(sample_report())
        import matplotlib
        bad = [m for m in sys.modules if any(m == x or m.startswith(x + ".")
                                             for x in EXCLUDED_MODULES)]
        print(json.dumps({"backend": matplotlib.get_backend().lower(), "excluded": bad}))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "qtagg"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"backend": "agg", "excluded": []}


def test_a_rubric_shows_each_criterions_score_per_grading():
    data = sample_report_dict()
    data["stages"][1]["details"]["rubric"] = {
        "combine": "threshold",
        "threshold": 0.75,
        "criteria": [
            {"name": "correct", "weight": 0.6, "by": "code"},
            {"name": "<b>cites</b>", "weight": 0.4, "by": "judge"},
        ],
        "gradings": [
            {
                "role": "reference",
                "task_id": "t1",
                "reward": 1.0,
                "error": None,
                "criteria": {"correct": 1.0, "<b>cites</b>": 0.5},
            },
            {
                "role": "negative",
                "task_id": "t1",
                "reward": None,
                "error": "exception",
                "criteria": {"correct": 0.0, "<b>cites</b>": None},
            },
            "not a row",
        ],
        "gradings_total": 2,
    }
    page = standalone_html(Report.from_dict(data))
    table = page[page.index("<h2>Rubric") : page.index("</table>", page.index("<h2>Rubric"))]
    assert "combined by threshold (threshold 0.75)" in table
    assert "&lt;b&gt;cites&lt;/b&gt;" in table and "<b>cites" not in table
    assert "<td>reference</td><td>t1</td><td>1</td><td>1</td><td>0.5</td>" in table
    assert "<td>negative</td><td>t1</td><td>exception</td><td>0</td><td>error</td>" in table


def test_a_report_without_a_rubric_has_no_rubric_table():
    assert "<h2>Rubric" not in standalone_html(sample_report())
