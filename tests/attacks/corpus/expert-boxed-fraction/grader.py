import re
import unicodedata
from fractions import Fraction


def extract(response):
    """The content of the one \boxed{...}; None when there is none, several, or it is unbalanced."""
    if not isinstance(response, str) or len(response) > 20000 or response.count("\\boxed{") != 1:
        return None
    start = response.index("\\boxed{") + len("\\boxed{")
    depth = 1
    for i in range(start, len(response)):
        if response[i] == "{":
            depth += 1
        elif response[i] == "}":
            depth -= 1
            if depth == 0:
                return response[start:i]
    return None


_FRAC = re.compile(r"\\[dt]?frac\{([+-]?\d{1,12})\}\{(\d{1,12})\}")
_PLAIN = re.compile(r"([+-]?\d{1,12})(?:/(\d{1,12}))?")


def rational(text):
    text = unicodedata.normalize("NFKC", text).replace(" ", "")
    match = _FRAC.fullmatch(text) or _PLAIN.fullmatch(text)
    if not match:
        return None
    num, den = match.group(1), match.group(2) or "1"
    if int(den) == 0:
        return None
    return Fraction(int(num), int(den))


def grade(task, response):
    said = extract(response)
    value = rational(said) if said is not None else None
    if value is None:
        return 0.0
    return 1.0 if value == Fraction(task["answer"]) else 0.0
