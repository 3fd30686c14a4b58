import re
import unicodedata

_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)


def extract(response):
    """The text of the one <answer> tag; None when there is none or several."""
    if not isinstance(response, str) or len(response) > 20000:
        return None
    found = _TAG.findall(response)
    if len(found) != 1:
        return None
    return found[0]


def grade(task, response):
    said = extract(response)
    if said is None:
        return 0.0
    said = unicodedata.normalize("NFKC", said).strip().casefold().rstrip(".")
    if said not in ("yes", "no"):
        return 0.0
    return 1.0 if said == task["answer"] else 0.0
