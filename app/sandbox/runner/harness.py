"""Runs a code submission in its own process (started by `code_tests`); stdlib only, standalone.

Reads {"entry", "calls", "sentinel"} from stdin *before* importing the submission, calls the
entry function once per test, and writes the outputs as JSON on one line that starts with the
per-run random sentinel, then exits at once. The expected values never enter this process, so
whatever the submission does here (patch json, print fake lines, exit early) it cannot make a
wrong output compare equal: the comparison happens in the trusted parent.
"""

import importlib.util
import json
import os
import sys


def main() -> None:
    request = json.loads(sys.stdin.read())
    sentinel = request["sentinel"]
    channel = os.dup(1)  # our own copy of stdout: the submission may replace sys.stdout
    os.set_inheritable(channel, False)
    outputs = []
    try:
        spec = importlib.util.spec_from_file_location("submission", request["path"])
        module = importlib.util.module_from_spec(spec)
        sys.modules["submission"] = module
        spec.loader.exec_module(module)
        function = getattr(module, request["entry"])
    except BaseException as exc:  # noqa: BLE001 - SystemExit at import is a failure too
        _send(channel, sentinel, {"import_error": _describe(exc)})
        return
    for call in request["calls"]:
        try:
            value = function(*call.get("args", []), **call.get("kwargs", {}))
            encoded = json.dumps(value, allow_nan=False)  # custom objects cannot be encoded
            outputs.append({"ok": True, "json": encoded})
        except BaseException as exc:  # noqa: BLE001 - sys.exit/SkipTest in a test = failed test
            outputs.append({"ok": False, "error": _describe(exc)})
    _send(channel, sentinel, {"outputs": outputs})


def _describe(exc: BaseException) -> str:
    try:
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    except BaseException:  # noqa: BLE001
        return "an exception that could not be described"


def _send(channel: int, sentinel: str, payload: dict) -> None:
    data = ("\n" + sentinel + json.dumps(payload) + "\n").encode("utf-8")
    while data:
        data = data[os.write(channel, data) :]
    os._exit(0)  # no atexit hooks, no lingering threads of the submission


if __name__ == "__main__":
    main()
