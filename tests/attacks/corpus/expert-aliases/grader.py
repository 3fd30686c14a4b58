import unicodedata


def norm(text):
    text = unicodedata.normalize("NFKC", text)
    if any(unicodedata.category(c) == "Cf" for c in text):
        return None  # invisible characters: not a plain answer
    return " ".join(text.casefold().split()).strip(" .")


def grade(task, response):
    if not isinstance(response, str) or len(response) > 200:
        return 0.0
    said = norm(response)
    if not said:
        return 0.0
    accepted = {norm(task["answer"])} | {norm(a) for a in task.get("aliases", [])}
    return 1.0 if said in accepted else 0.0
