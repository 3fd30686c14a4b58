"""The contamination probe (`gauntlet calibrate --contamination`): has a model seen the tasks?

Two questions per task and model, asked once each through the same sampler as the samples (so
they are cached, budgeted and in the estimate):

- **answer**: the package's name and title and the task's id, not its prompt; "give the
  expected answer". Flagged when the reply holds one of the task's references: the model
  answered a question it was not shown. References shorter than `MIN_ANSWER_CHARS` after
  normalising, and numbers with fewer significant digits than that, are not probed: "yes",
  "42" or "90.0" can be guessed.
- **prefix**: the task's id and the first half of its prompt's words; "continue it word for
  word". Flagged when
  the reply, normalised, matches the rest of the prompt with a similarity of at least
  `SIMILARITY_THRESHOLD`. Prompts whose rest is shorter than `MIN_REST_CHARS` are not probed:
  a short, formulaic ending can be guessed.

Normalised: Unicode NFKC, case-folded, runs of whitespace made one space. Similarity: difflib's
ratio 2·M/T (M matching characters, T both lengths) between the rest and as much of the reply
as the rest is long, once a repeated prefix is dropped from the reply. Neither probe proves a
leak or its absence; a flag says which tasks to rewrite or replace, with the replies as evidence.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Any

from app.calibrate.sampling import Sample, SampleRequest
from app.envpack.model import EnvPack, Task
from app.finding_codes import FindingSink
from app.findings import Finding, Stage

SIMILARITY_THRESHOLD = 0.9
MIN_ANSWER_CHARS = 4
MIN_REST_CHARS = 24
MAX_COMPARED_CHARS = 4000  # difflib is quadratic: the head of a long prompt is evidence enough
EXCERPT_CHARS = 300
ANSWER, PREFIX = "probe-answer", "probe-prefix"


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def split_prompt(prompt: str) -> tuple[str, str] | None:
    """(prefix, rest): the first half of the words and the text after them; None when the rest
    is too short to be told from a guess."""
    words = list(re.finditer(r"\S+", prompt))
    if len(words) < 2:
        return None
    cut = words[(len(words) + 1) // 2 - 1].end()
    prefix, rest = prompt[:cut], prompt[cut:]
    return (prefix, rest) if len(normalise(rest)) >= MIN_REST_CHARS else None


def _source(pack: EnvPack) -> str:
    package = pack.manifest.package
    return f"'{package.name}' ({package.title})" if package.title else f"'{package.name}'"


def answer_probe(pack: EnvPack, task: Task) -> str:
    return (
        f"The evaluation set {_source(pack)} has a task with the id '{task.id}'. Without seeing "
        "the task, give its expected answer. Reply with the answer only."
    )


def prefix_probe(pack: EnvPack, task: Task, prefix: str) -> str:
    # The id keeps tasks that open alike (a shared template) apart, for the model and the cache.
    return (
        f"Here is the beginning of the task '{task.id}' from the evaluation set {_source(pack)}. "
        "Continue it exactly as it appears in the set, word for word. Reply with the "
        "continuation only.\n\n" + prefix
    )


def guessable(reference: str) -> bool:
    """Too short, or a number with too few significant digits, to tell a memory from a guess."""
    if len(reference) < MIN_ANSWER_CHARS:
        return True
    if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?", reference):
        mantissa = re.sub(r"\D", "", reference.split("e")[0])
        return len(mantissa.strip("0")) < MIN_ANSWER_CHARS
    return False


def _references(pack: EnvPack, task_id: str) -> list[str]:
    found = {normalise(r.response) for r in pack.solutions if r.task_id == task_id}
    return sorted(r for r in found if not guessable(r))


def probe_requests(pack: EnvPack, models: list[str]) -> list[SampleRequest]:
    """One answer probe (where the task has a reference long enough) and one prefix probe (where
    its prompt is long enough) per task and model."""
    requests = []
    for model in models:
        for task in pack.tasks:
            if _references(pack, task.id):
                requests.append(
                    SampleRequest(model, task.id, 0, (("user", answer_probe(pack, task)),), ANSWER)
                )
            split = split_prompt(task.prompt)
            if split is not None:
                content = prefix_probe(pack, task, split[0])
                requests.append(SampleRequest(model, task.id, 0, (("user", content),), PREFIX))
    return requests


def holds_reference(reply: str, references: list[str]) -> bool:
    """The normalised reply contains a normalised reference as a whole (not inside a word), or,
    for a reference of 40 characters or more, matches it nearly (the similarity threshold)."""
    text = normalise(reply)
    for reference in references:
        if re.search(rf"(?<!\w){re.escape(reference)}(?!\w)", text):
            return True
        if len(reference) >= 40 and similarity(reference, text) >= SIMILARITY_THRESHOLD:
            return True
    return False


def similarity(expected: str, reply: str) -> float:
    """difflib's ratio between `expected` and the head of `reply` as long as it (both normalised
    by the caller)."""
    expected = expected[:MAX_COMPARED_CHARS]
    matcher = difflib.SequenceMatcher(None, expected, reply[: len(expected)], autojunk=False)
    return matcher.ratio()


def continuation_similarity(reply: str, prefix: str, rest: str) -> float:
    text, head = normalise(reply), normalise(prefix)
    if head and text.startswith(head):
        text = text[len(head) :].lstrip()  # the model repeated the prefix before continuing
    return similarity(normalise(rest), text)


def analyse_probes(
    pack: EnvPack, models: list[str], samples: list[Sample]
) -> tuple[dict[str, Any], list[Finding]]:
    """The card's `contamination` block and the GX404 findings, from the probes' replies."""
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for sample in samples:
        request = sample.request
        if request.kind not in (ANSWER, PREFIX):
            continue
        entry = results.setdefault(request.task_id, {}).setdefault(request.model, {})
        task = pack.task(request.task_id)
        if request.kind == ANSWER:
            flagged = holds_reference(sample.text, _references(pack, task.id))
            entry["answer"] = {"reply": sample.text[:EXCERPT_CHARS], "reproduced": flagged}
        else:
            prefix, rest = split_prompt(task.prompt) or ("", "")
            score = round(continuation_similarity(sample.text, prefix, rest), 4)
            entry["prefix"] = {
                "reply": sample.text[:EXCERPT_CHARS],
                "similarity": score,
                "reproduced": score >= SIMILARITY_THRESHOLD,
            }
    findings = _findings(pack, models, results)
    block = {
        "probed": True,
        "similarity_threshold": SIMILARITY_THRESHOLD,
        "min_answer_chars": MIN_ANSWER_CHARS,
        "min_rest_chars": MIN_REST_CHARS,
        "tasks_probed": len(results),
        "tasks_flagged": len(findings),
        "tasks": results,
    }
    return block, findings


def _findings(
    pack: EnvPack, models: list[str], results: dict[str, dict[str, dict[str, Any]]]
) -> list[Finding]:
    sink = FindingSink(Stage.CALIBRATE)
    for task in pack.tasks:
        per_model = results.get(task.id, {})
        signs = []
        for model in models:
            probes = per_model.get(model, {})
            if probes.get("answer", {}).get("reproduced"):
                signs.append(f"{model} gave its answer without seeing it")
            if probes.get("prefix", {}).get("reproduced"):
                score = probes["prefix"]["similarity"]
                signs.append(f"{model} continued its prompt word for word (similarity {score})")
        if signs:
            sink.report(
                "GX404",
                f"task '{task.id}': likely contamination: " + "; ".join(signs),
                evidence={"probes": per_model},
                task_id=task.id,
                file=pack.manifest.tasks_path,
                line=task.line,
            )
    return sink.findings
