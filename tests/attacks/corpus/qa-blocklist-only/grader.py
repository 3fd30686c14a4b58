MISCONCEPTIONS = {"chloroplast", "oxygen", "myoglobin", "nucleus", "ribosome"}


def grade(task: dict, response: str) -> float:
    if response == "":
        return 0.0
    words = set(response.lower().split())
    return 0.0 if words & MISCONCEPTIONS else 1.0
