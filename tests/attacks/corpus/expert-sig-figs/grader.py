import math
import re
import unicodedata

NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?")


def one_number(text):
    """The text as one finite number, or None."""
    if text is None:
        return None
    text = unicodedata.normalize("NFKC", text).strip().replace("\u2212", "-")
    if len(text) > 40 or not NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def grade(task, response):
    value = one_number(response)
    if value is None:
        return 0.0
    return 1.0 if math.isclose(value, float(task["answer"]), rel_tol=0.005) else 0.0
