"""Criteria for "Pharmacology short answers with a cited source".

A response is exactly two lines:

    Answer: <the answer>
    Source: [n]

where n numbers the source, among those the prompt lists, that supports the answer. Each
criterion reads the response strictly and returns 1.0 or 0.0, so the report shows which one a
response fails. Deterministic and self-contained: no randomness, no clock, no files, no network.
"""

import re
import unicodedata

MAX_RESPONSE_CHARS = 300
MAX_ANSWER_CHARS = 60
_ANSWER = re.compile(r"Answer: (?P<answer>[^\n]+)")
_SOURCE = re.compile(r"Source: (?P<cited>\[\d+\](?:, ?\[\d+\])*)")


def _lines(response):
    """The two lines of a well-formed response, or None."""
    if not isinstance(response, str) or len(response) > MAX_RESPONSE_CHARS:
        return None
    lines = response.strip().split("\n")
    if len(lines) != 2:
        return None
    answer, source = (_ANSWER.fullmatch(lines[0].strip()), _SOURCE.fullmatch(lines[1].strip()))
    if answer is None or source is None:
        return None
    return answer["answer"].strip(), source["cited"]


def _normal(text):
    """Case, spacing, hyphens and Unicode look-alikes do not change an answer's meaning."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if any(unicodedata.category(ch) == "Cf" for ch in text):
        return None  # invisible characters: never a genuine answer
    return re.sub(r"[\s\-]+", " ", text).strip().rstrip(".")


def correct(task, response):
    """1.0 when the answer line names the expected answer (or an accepted alias) and nothing
    else."""
    parsed = _lines(response)
    if parsed is None or len(parsed[0]) > MAX_ANSWER_CHARS:
        return 0.0
    given = _normal(parsed[0])
    accepted = {_normal(a) for a in [task["answer"], *task.get("aliases", [])]}
    return 1.0 if given is not None and given in accepted else 0.0


def well_formed(task, response):
    """1.0 for exactly "Answer: ..." then "Source: [n]", with a short answer."""
    parsed = _lines(response)
    return 1.0 if parsed is not None and len(parsed[0]) <= MAX_ANSWER_CHARS else 0.0


def cites_support(task, response):
    """1.0 when the cited sources are exactly the ones that support the answer."""
    parsed = _lines(response)
    if parsed is None:
        return 0.0
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", parsed[1])}
    return 1.0 if cited == set(task["supporting"]) else 0.0
