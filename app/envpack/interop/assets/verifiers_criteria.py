# ruff: noqa: F821 - a fragment: the importer appends it to grader.py (inspect, _Task)

# -- written by Gauntlet Studio's verifiers import: how the rewards above are called ------------
# Each criterion function below calls one of the environment's reward functions the way
# verifiers does, with stand-ins for what verifiers would hand it: the task's data and the
# model's reply (a current `verifiers.v1` reward gets `task`/`self.data` and a `trace` with
# `last_reply`; a classic reward gets `completion` as chat messages, `answer`, `prompt`,
# `info`, `state` and a plain `parser`). An async reward runs to its end here; one that waits on
# I/O or a model cannot be graded offline and fails.


class _Fields:
    def __init__(self, fields):
        self.__dict__.update(fields)


class _Message:
    def __init__(self, role, content):
        self.role, self.content = role, content

    def __getitem__(self, key):  # classic rewards read messages as dicts
        return getattr(self, key)

    def get(self, key, default=None):
        return getattr(self, key, default)


class _Trace:
    def __init__(self, response):
        self.root_reply = response
        self.last_reply = response.strip()
        self.assistant_messages = [_Message("assistant", response)]


class _Parser:
    """verifiers' plain `Parser`: the answer is the last assistant message's text."""

    def parse(self, text):
        return text

    def parse_answer(self, completion):
        if isinstance(completion, str):
            return completion
        replies = [m for m in completion if m["role"] == "assistant"]
        return replies[-1]["content"] if replies else None


def _finished(value):
    if inspect.iscoroutine(value):
        try:
            value.send(None)
        except StopIteration as done:
            return done.value
        value.close()
        raise RuntimeError("the reward waits on I/O or a model; it cannot be graded offline")
    return value


def _call(function, available):
    parameters = inspect.signature(function).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return _finished(function(**available))
    return _finished(function(**{k: v for k, v in available.items() if k in parameters}))


def _current(name, task, response):
    data = _Fields(task.get("vf_data") or {"prompt": task["prompt"], "answer": task["answer"]})
    method = getattr(_Task(data), name)
    return _call(method, {"task": data, "trace": _Trace(response)})


def _classic(function, task, response):
    available = {
        "prompt": [_Message("user", task["prompt"])],
        "completion": [_Message("assistant", response)],
        "answer": task.get("answer", ""),
        "info": task.get("info", {}),
        "state": {},
        "task": "default",
        "parser": _Parser(),
    }
    return _call(function, available)
