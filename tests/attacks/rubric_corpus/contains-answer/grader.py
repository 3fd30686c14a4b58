def correct(task, response):
    return 1.0 if str(task["answer"]) in response else 0.0


def brief(task, response):
    return 1.0 if 0 < len(response.strip()) <= 300 else 0.0
