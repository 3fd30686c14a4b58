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


def norm(text):
    text = unicodedata.normalize("NFKC", text)
    if any(unicodedata.category(c) == "Cf" for c in text):
        return None  # invisible characters: not a plain answer
    return " ".join(text.casefold().split()).strip(" .")


def grade(task, response):
    said = extract(response)
    if said is None or norm(said) is None:
        return 0.0
    return 1.0 if norm(said) == norm(task["answer"]) else 0.0
