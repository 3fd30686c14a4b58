"""Shared test data for the interop tests (a uniquely named module: `conftest` is ambiguous
when the whole tree is collected)."""

QA_TEMPLATES = ("qa-exact", "qa-numeric", "qa-choice", "qa-python")
HARBOR_TEMPLATES = (*QA_TEMPLATES, "code-tests")

# Appended to the qa-python template's grader (renamed to _grade): a grader that crashes,
# returns a reward out of range, or NaN for some responses.
BAD_GRADER_LINES = """

def grade(task, response):
    if response == "boom":
        raise RuntimeError("grader bug")
    if response == "too-much":
        return 7.0
    if response == "nan":
        return {"reward": float("nan")}
    return _grade(task, response)
"""
