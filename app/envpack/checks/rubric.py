"""A rubric grader (grader.type = "rubric", DESIGN §4.3): its [[grader.criteria]] are named
once each, weighted above zero, either a function of the grader module (read with `ast`, never
run) or a judge question with ordered choices, and combined with a threshold that can be met."""

from __future__ import annotations

import ast
import re

from app.envpack.checks.context import CheckContext
from app.envpack.checks.python_grader import GraderHazards, check_entry, read_grader_tree
from app.envpack.model import CriterionSpec, Span
from app.envpack.source import normalize_relpath

_FUNCTION = re.compile(r"^(?:(?P<file>[^:]+\.py):)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)$")


def check_rubric(ctx: CheckContext) -> None:
    grader = ctx.pack.grader
    if not grader.is_rubric:
        return
    if not grader.criteria:
        ctx.report(
            "GX192",
            'grader.type = "rubric" but there is no [[grader.criteria]] entry.',
            ctx.at_key("grader.type"),
            hint=(
                "Add one section per criterion: [[grader.criteria]] with name, weight, and "
                '`function = "name"` (a function of grader.py) or `judge = "question"` with '
                "choices."
            ),
        )
        return
    trees = _GraderFiles(ctx)
    seen: dict[str, int] = {}
    for index, criterion in enumerate(grader.criteria):
        base = f"grader.criteria.{index}"
        if _shape_ok(ctx, criterion, base, index):
            if criterion.name in seen:
                ctx.report(
                    "GX186",
                    f"Criteria {seen[criterion.name] + 1} and {index + 1} are both named "
                    f'"{criterion.name}".',
                    ctx.at_key(f"{base}.name"),
                )
            seen.setdefault(criterion.name, index)
            if criterion.is_judge:
                _check_choices(ctx, criterion, base)
            elif not ctx.pack.is_agentic:
                trees.check_function(criterion, ctx.at_key(f"{base}.function"))
        if criterion.weight <= 0:
            ctx.report(
                "GX187",
                f'Criterion "{criterion.name or index + 1}" has weight = {criterion.weight:g}; '
                "a weight must be above 0.",
                ctx.at_key(f"{base}.weight"),
            )
    _check_combine(ctx)
    if any(c.is_judge for c in grader.criteria) and not grader.model.strip():
        judged = ", ".join(f'"{c.name}"' for c in grader.criteria if c.is_judge)
        ctx.report(
            "GX193",
            f"The judge criteria ({judged}) need an LLM, but grader.model is not set: offline "
            "they cannot be graded.",
            ctx.at_key("grader.type"),
        )


def _shape_ok(ctx: CheckContext, criterion: CriterionSpec, base: str, index: int) -> bool:
    """A name and exactly one of `function` or `judge` (GX192 otherwise)."""
    span = ctx.at_key(base)
    label = f'Criterion "{criterion.name}"' if criterion.name else f"Criterion {index + 1}"
    if not criterion.name.strip():
        ctx.report("GX192", f"{label} has no name.", span, hint='Add `name = "correctness"`.')
        return False
    if ctx.pack.is_agentic:  # a key of reward.json: GX183 reports a function or judge
        return not (criterion.function or criterion.judge)
    if bool(criterion.function) == bool(criterion.judge):
        has = (
            "both `function` and `judge`"
            if criterion.function
            else "neither `function` nor `judge`"
        )
        ctx.report(
            "GX192",
            f"{label} has {has}; a criterion is checked by code or by a judge, not both.",
            span,
            hint=(
                'Write `function = "name_of_a_grader_function"` for a code check, or '
                '`judge = "question"` with choices for an LLM judge.'
            ),
        )
        return False
    if criterion.function and (criterion.choices or criterion.scores):
        ctx.report(
            "GX192",
            f"{label} is checked by code; its choices and scores only apply to judge criteria.",
            ctx.at_key(f"{base}.choices" if criterion.choices else f"{base}.scores"),
            hint="Remove choices/scores, or make it a judge criterion.",
        )
    return True


def _check_choices(ctx: CheckContext, criterion: CriterionSpec, base: str) -> None:
    low, high = ctx.pack.grader.reward_range
    name = criterion.name
    if len(criterion.choices) < 2:
        got = f"only {criterion.choices}" if criterion.choices else "no choices"
        ctx.report(
            "GX188",
            f'Judge criterion "{name}" has {got}; the judge needs at least two answers to choose '
            "from, worst to best.",
            ctx.at_key(f"{base}.choices"),
        )
        return
    if len(set(criterion.choices)) != len(criterion.choices):
        ctx.report(
            "GX188",
            f'Judge criterion "{name}" lists a choice twice: {criterion.choices}.',
            ctx.at_key(f"{base}.choices"),
        )
    scores = criterion.scores
    if not scores:
        return
    problem = ""
    if len(scores) != len(criterion.choices):
        problem = f"{len(scores)} scores for {len(criterion.choices)} choices"
    elif any(not low <= s <= high for s in scores):
        problem = f"a score outside reward_range [{low:g}, {high:g}]"
    elif any(b <= a for a, b in zip(scores, scores[1:], strict=False)):
        problem = "scores that do not rise from the worst choice to the best"
    if problem:
        ctx.report(
            "GX188",
            f'Judge criterion "{name}" has {problem}: scores = {[f"{s:g}" for s in scores]}.',
            ctx.at_key(f"{base}.scores"),
        )


def _check_combine(ctx: CheckContext) -> None:
    grader = ctx.pack.grader
    low, high = grader.reward_range
    if grader.combine != "threshold":
        return
    if grader.threshold is None:
        ctx.report(
            "GX189",
            'combine = "threshold" but no threshold is set.',
            ctx.at_key("grader.combine"),
        )
    elif low < high and not low < grader.threshold <= high:
        ctx.report(
            "GX189",
            f"threshold = {grader.threshold:g} is outside reward_range ({low:g}, {high:g}]: "
            + ("no answer could pass." if grader.threshold > high else "every answer passes."),
            ctx.at_key("grader.threshold"),
        )


class _GraderFiles:
    """Each grader file parsed once (and scanned for hazards once), whatever the number of
    criteria that name it."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.trees: dict[str, ast.Module | None] = {}

    def check_function(self, criterion: CriterionSpec, span: Span) -> None:
        match = _FUNCTION.match(criterion.function.strip())
        if not match:
            self.ctx.report(
                "GX185",
                f'Criterion "{criterion.name}": function = "{criterion.function}" is not a '
                'function name ("correct") or "file.py:name".',
                span,
            )
            return
        written = match["file"] or self.ctx.pack.grader.entry_file
        rel = normalize_relpath(written)
        tree = self._tree(rel, written, span, match["name"])
        if tree is None or rel is None:
            return
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        others = {n.name for n in tree.body if isinstance(n, ast.AsyncFunctionDef | ast.ClassDef)}
        if match["name"] not in defined | others and not _assigned(tree, match["name"]):
            listed = ", ".join(sorted(defined)) or "no functions"
            self.ctx.report(
                "GX185",
                f'Criterion "{criterion.name}": {rel} has no top-level function '
                f'"{match["name"]}" (it defines {listed}).',
                span,
            )
            return
        check_entry(self.ctx, tree, rel, match["name"])

    def _tree(self, rel: str | None, written: str, span: Span, name: str) -> ast.Module | None:
        key = rel or written
        if key not in self.trees:
            tree = read_grader_tree(
                self.ctx,
                rel,
                span,
                outside=f'The criterion\'s grader file "{written}" is outside the package folder.',
                hint=f"Create {rel} with `def {name}(task, response):` or fix the function.",
            )
            if tree is not None and rel is not None:
                GraderHazards(self.ctx, rel).scan(tree)
            self.trees[key] = tree
        return self.trees[key]


def _assigned(tree: ast.Module, name: str) -> bool:
    """`name` is bound at the top level some other way (an import, an assignment): GX172 then
    says it is not a function, which is more useful than "missing"."""
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
        if isinstance(node, ast.Import | ast.ImportFrom) and any(
            (a.asname or a.name) == name for a in node.names
        ):
            return True
    return False
