def grade(task: dict, response: str) -> float:
    return (
        1.0
        if task["answer"] in response.lower().split(".")[0] or task["answer"] in response.lower()
        else 0.0
    )
