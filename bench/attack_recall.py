"""Attack recall benchmark (stage 3), against the real Docker sandbox.

Prints:
- recall on the vulnerable corpus (tests/attacks/corpus): the share of packages with a confirmed
  hit of their planted weakness class; false alarms on the robust corpus and on the precision
  corpus (expert graders, `expert-*`): packages with any error in stage 3; precision: of the
  packages stage 3 reports an error for, the share that really are vulnerable; warnings (GX310)
  that name an unstated assumption; time per environment;
- the rubric corpus (tests/attacks/rubric_corpus) as its own row: the vulnerable rubric packages
  flagged on the criterion with the planted weakness, and hits on the robust ones;
- the multi-turn corpus (tests/attacks/multiturn_corpus) as its own row: the vulnerable packages
  flagged with their planted GX34x code, and hits on the robust ones;
- for a generated 100-task package with the built-in library: the stage-3 time and the whole
  funnel time (budget ≤ 60 s, docs/engineering.md), and the batching gain — stage 3's gradings, if
  each were graded in its own fresh sandbox (measured in the same run), versus the batched run.

    .venv/bin/python bench/attack_recall.py [--skip-corpus] [--skip-rubric] [--skip-multiturn]
                                            [--only NAME...]
                                            [--tasks 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.findings import Stage  # noqa: E402
from app.funnel.pipeline import FunnelOptions, run_funnel  # noqa: E402

CORPUS = ROOT / "tests" / "attacks" / "corpus"
RUBRIC_CORPUS = ROOT / "tests" / "attacks" / "rubric_corpus"
MULTITURN_CORPUS = ROOT / "tests" / "attacks" / "multiturn_corpus"
BUDGET_S = 60.0


def corpus(only: list[str]) -> None:
    options = FunnelOptions(backend="docker")
    rows = []
    for folder in sorted(p for p in CORPUS.iterdir() if (p / "expect.toml").exists()):
        if only and folder.name not in only:
            continue
        expect = tomllib.loads((folder / "expect.toml").read_text(encoding="utf-8"))
        started = time.perf_counter()
        report = run_funnel(folder, stages=(Stage.ATTACK,), options=options)
        elapsed = time.perf_counter() - started
        hits = [f for f in report.findings if f.code in ("GX301", "GX302")]
        errors = [f for f in report.findings if f.is_error and str(f.stage) == "attack"]
        warnings = [f for f in report.findings if f.code == "GX310"]
        categories = sorted({f.attack.category for f in hits})
        ok = not errors if expect["robust"] else expect["planted"] in categories
        rows.append((folder.name, expect, ok, categories, elapsed, bool(errors), len(warnings)))
        label = (
            "precision"
            if expect.get("precision")
            else "robust"
            if expect["robust"]
            else f"planted {expect['planted']}"
        )
        alarm = "; ".join(f"{f.code} {f.attack.id if f.attack else ''}" for f in errors)
        print(
            (
                f"  {'ok ' if ok else 'MISS' if not expect['robust'] else 'FALSE ALARM'} "
                f"{folder.name:30s} {elapsed:6.1f} s  {label}; "
                f"hits in: {', '.join(categories) or '-'}"
            )
            + (f"; errors: {alarm}" if expect["robust"] and errors else "")
            + (f"; {len(warnings)} GX310 warning(s)" if warnings else ""),
            flush=True,
        )
    vulnerable = [r for r in rows if not r[1]["robust"]]
    robust = [r for r in rows if r[1]["robust"] and not r[1].get("precision")]
    expert = [r for r in rows if r[1].get("precision")]
    times = [r[4] for r in rows]
    print()
    if vulnerable:
        found = sum(r[2] for r in vulnerable)
        print(
            f"recall (vulnerable corpus): {found}/{len(vulnerable)} = {found / len(vulnerable):.0%}"
        )
        by_class: dict[str, list[bool]] = {}
        for r in vulnerable:
            by_class.setdefault(r[1]["planted"], []).append(r[2])
        for name, oks in sorted(by_class.items()):
            print(f"  {name:15s} {sum(oks)}/{len(oks)}")
    for name, group in (("robust corpus", robust), ("precision corpus, expert graders", expert)):
        if group:
            alarms = sum(not r[2] for r in group)
            warned = sum(1 for r in group if r[6])
            print(
                f"false alarms ({name}): {alarms}/{len(group)} with an error; "
                f"{warned} with a GX310 warning naming an unstated assumption"
            )
    flagged_true = sum(1 for r in vulnerable if r[5])
    flagged_false = sum(1 for r in robust + expert if r[5])
    if flagged_true + flagged_false:
        print(
            f"precision (packages with an error that are really vulnerable): {flagged_true}/"
            f"{flagged_true + flagged_false} = {flagged_true / (flagged_true + flagged_false):.0%}"
        )
    if times:
        qa = [r[4] for r in rows if not r[0].startswith(("code-", "robust-tests"))]
        code = [r[4] for r in rows if r[0].startswith(("code-", "robust-tests"))]
        print(
            f"time per environment: mean {statistics.mean(times):.1f} s, "
            f"median {statistics.median(times):.1f} s, max {max(times):.1f} s"
        )
        if qa:
            print(f"  qa packages:   mean {statistics.mean(qa):.1f} s")
        if code:
            print(f"  code packages: mean {statistics.mean(code):.1f} s")


def rubric_corpus() -> None:
    """One row: a vulnerable rubric counts when a confirmed hit names its planted criterion
    among the criteria the attack moved; a robust one must get no hit at all."""
    options = FunnelOptions(backend="docker")
    flagged, vulnerable, alarms, robust, times = 0, 0, 0, 0, []
    for folder in sorted(p for p in RUBRIC_CORPUS.iterdir() if (p / "expect.toml").exists()):
        expect = tomllib.loads((folder / "expect.toml").read_text(encoding="utf-8"))
        started = time.perf_counter()
        report = run_funnel(folder, stages=(Stage.ATTACK,), options=options)
        times.append(time.perf_counter() - started)
        hits = [f for f in report.findings if f.code in ("GX301", "GX302")]
        moved = sorted({c for f in hits for c in (f.evidence or {}).get("criteria_moved", [])})
        if expect["robust"]:
            robust += 1
            alarms += bool(hits)
            ok = not hits
        else:
            vulnerable += 1
            ok = expect["criterion"] in moved
            flagged += ok
        print(
            f"  {'ok ' if ok else 'MISS' if not expect['robust'] else 'FALSE ALARM'} "
            f"{folder.name:20s} {times[-1]:6.1f} s  criteria moved: {', '.join(moved) or '-'}",
            flush=True,
        )
    if times:
        print(
            f"rubric corpus: {flagged}/{vulnerable} vulnerable flagged on the planted criterion; "
            f"false alarms {alarms}/{robust}; mean {statistics.mean(times):.1f} s per package"
        )


def multiturn_corpus() -> None:
    """One row: a vulnerable multi-turn package counts when a confirmed finding carries its
    planted code (GX340-GX347), with the whole multi-turn library; a robust one must get no hit
    of any code."""
    options = FunnelOptions(backend="docker")
    hit_codes = {f"GX34{i}" for i in range(9)} | {"GX301", "GX302", "GX310"}
    flagged, vulnerable, alarms, robust, times = 0, 0, 0, 0, []
    for folder in sorted(p for p in MULTITURN_CORPUS.iterdir() if (p / "expect.toml").exists()):
        expect = tomllib.loads((folder / "expect.toml").read_text(encoding="utf-8"))
        started = time.perf_counter()
        report = run_funnel(folder, stages=(Stage.ATTACK,), options=options)
        times.append(time.perf_counter() - started)
        codes = sorted({f.code for f in report.findings if f.code in hit_codes})
        if expect["robust"]:
            robust += 1
            alarms += bool(codes)
            ok = not codes
        else:
            vulnerable += 1
            ok = expect["code"] in codes
            flagged += ok
        print(
            f"  {'ok ' if ok else 'MISS' if not expect['robust'] else 'FALSE ALARM'} "
            f"{folder.name:24s} {times[-1]:6.1f} s  planted {expect.get('code', '-')}; "
            f"codes: {', '.join(codes) or '-'}",
            flush=True,
        )
    if times:
        print(
            f"multi-turn corpus: {flagged}/{vulnerable} vulnerable flagged with the planted code; "
            f"false alarms {alarms}/{robust}; mean {statistics.mean(times):.1f} s per package"
        )


def write_package(root: Path, tasks: int) -> None:
    """A realistic numeric qa package: `tasks` Michaelis-Menten rate questions, built-in grader."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "env.toml").write_text(
        'schema = "gauntlet/1"\nkind = "qa"\n\n[package]\n'
        'name = "bench/enzyme-rates"\nversion = "0.1.0"\n'
        'title = "Enzyme rates (benchmark)"\n'
        'description = "Generated for bench/attack_recall.py."\n'
        'authors = ["Bench <bench@gauntlet.example>"]\n'
        'license = "CC-BY-4.0"\n\n[tasks]\npath = "tasks.jsonl"\n\n'
        '[grader]\ntype = "match"\nmode = "numeric"\ntolerance = 1e-6\nreward_range = [0.0, 1.0]\n'
        'pass_threshold = 1.0\ntimeout_s = 10\n\n[solutions]\npath = "solutions.jsonl"\n\n'
        '[negatives]\npath = "negatives.jsonl"\n\n[sandbox]\nnetwork = "none"\n',
        encoding="utf-8",
    )
    (root / "README.md").write_text(
        "# Enzyme rates\n\nGenerated benchmark package.\n", encoding="utf-8"
    )
    lines, solutions, negatives = [], [], []
    for i in range(tasks):
        vmax, km, s = 60 + 4 * i, 2 + i % 7, 2 + (i * 3) % 11
        rate = round(vmax * s / (km + s), 4)
        prompt = (
            f"An enzyme has Vmax = {vmax} µM/min and Km = {km} µM. "
            f"What is the initial rate in µM/min at [S] = {s} µM? "
            "Give the number only, to 4 decimals."
        )
        lines.append(
            json.dumps({"id": f"rate-{i}", "prompt": prompt, "answer": rate}, ensure_ascii=False)
        )
        solutions.append(json.dumps({"task_id": f"rate-{i}", "response": str(rate)}))
        negatives.append(
            json.dumps(
                {"task_id": f"rate-{i}", "response": str(vmax), "note": "Vmax, not the rate"}
            )
        )
    (root / "tasks.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "solutions.jsonl").write_text("\n".join(solutions) + "\n", encoding="utf-8")
    (root / "negatives.jsonl").write_text("\n".join(negatives) + "\n", encoding="utf-8")


def hundred_tasks(tasks: int) -> None:
    from app.envpack.loader import load_envpack
    from app.sandbox.backends import get_backend
    from app.sandbox.base import GradingItem

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "pkg"
        write_package(root, tasks)
        started = time.perf_counter()
        report = run_funnel(root, options=FunnelOptions(backend="docker"))
        total = time.perf_counter() - started
        stages = {str(s.name): s for s in report.stages}
        attack = stages.get("attack")
        if attack is None or attack.status in ("skipped", "error"):
            reached = [(str(s.name), str(s.status), s.details.get("reason")) for s in report.stages]
            print(f"the funnel did not reach stage 3: {reached}")
            return
        gradings = attack.details["gradings"]
        print(
            f"{tasks}-task package (match numeric), whole funnel: "
            f"{total:.1f} s (budget {BUDGET_S:.0f} s: "
            f"{'within' if total <= BUDGET_S else 'OVER'}; {total / BUDGET_S:.2f}× the budget)"
        )
        for name in ("structure", "verify", "attack"):
            if name in stages:
                print(f"  stage {name:9s} {stages[name].duration_s:6.1f} s  {stages[name].status}")
        print(
            f"  stage 3: {gradings} gradings in "
            f"{attack.details['sandbox_batches']} sandbox batch(es), "
            f"{attack.details['tasks_attacked']} of {tasks} tasks attacked, "
            f"confirmed hits: {attack.details['confirmed_hits']}"
        )

        # Baseline, same run: one fresh sandbox per grading (what batching saves).
        pack = load_envpack(root).pack
        backend = get_backend("docker")
        task = pack.tasks[0]
        singles = []
        for _ in range(3):
            t0 = time.perf_counter()
            backend.grade_batch(pack, [GradingItem("one", task.record, "nan")])
            singles.append(time.perf_counter() - t0)
        per_grading = statistics.median(singles)
        projected = per_grading * gradings
        print(
            "  baseline, one sandbox per grading: "
            f"{per_grading:.2f} s each → {projected:.0f} s for stage 3's "
            f"{gradings} gradings; "
            f"batched stage 3 is {projected / max(attack.duration_s, 1e-9):.0f}× faster"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-corpus", action="store_true")
    parser.add_argument("--skip-package", action="store_true")
    parser.add_argument("--skip-rubric", action="store_true")
    parser.add_argument("--skip-multiturn", action="store_true")
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--tasks", type=int, default=100)
    args = parser.parse_args()
    if not args.skip_corpus:
        print("attack corpus (built-in library, Docker):")
        corpus(args.only)
        print()
    if not args.skip_rubric:
        print("rubric corpus (per-criterion findings, Docker):")
        rubric_corpus()
        print()
    if not args.skip_multiturn:
        print("multi-turn corpus (whole multi-turn library, Docker):")
        multiturn_corpus()
        print()
    if not args.skip_package:
        hundred_tasks(args.tasks)


if __name__ == "__main__":
    main()
