"""Hardening the host process that runs gradings next to untrusted graders.

On the weak process backend a grader runs as the same user as the process that started it, so
it could read that process's `/proc/<pid>/environ` and memory (API keys, tokens). Two defences:
- secrets never sit in the environment of a process that runs the funnel: the caller resolves
  the one key a judge or the red team needs and passes it explicitly, `secret_free_environment`
  builds a child's environment without any, and `harden_host_process` drops them from our own;
- the process is made non-dumpable (Linux `PR_SET_DUMPABLE` 0), so other processes of the same
  user cannot open its `/proc/<pid>/environ` or `/proc/<pid>/mem` or ptrace it. (Removing a
  variable from `os.environ` does not erase it from the original block `/proc` shows.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import re
import sys
from collections.abc import Mapping

log = logging.getLogger(__name__)

PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3

# Names of variables that hold credentials: provider keys (OPENAI_API_KEY, ANTHROPIC_API_KEY,
# GEMINI_API_KEY...), tokens (HF_TOKEN, GITHUB_TOKEN, GAUNTLET_TOKEN), cloud secrets.
_SECRET_NAME = re.compile(
    r"(API_?KEY|_TOKEN|TOKEN$|SECRET|PASSWORD|PASSWD|CREDENTIALS?)", re.IGNORECASE
)

_API_KEY = re.compile(r"API_?KEY", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def secret_free_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of `env` (default: ours) without any variable that looks like a credential."""
    source = os.environ if env is None else env
    return {k: v for k, v in source.items() if not is_secret_name(k)}


def provider_key_from_environment(model: str | None) -> str | None:
    """The provider's usual variable for `model` ("openai/gpt-4o" -> OPENAI_API_KEY), read
    before the environment is cleared, so it can be passed explicitly where it is needed."""
    if not model:
        return None
    provider = model.split("/", 1)[0] if "/" in model else model
    name = re.sub(r"[^A-Z0-9]", "_", provider.upper()) + "_API_KEY"
    return os.environ.get(name) or None


def make_non_dumpable() -> bool:
    """PR_SET_DUMPABLE 0 on Linux; True when the process is now non-dumpable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_DUMPABLE) failed: errno %d", ctypes.get_errno())
            return False
        return libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0
    except (OSError, AttributeError) as exc:
        log.warning("cannot make the process non-dumpable: %s", exc)
        return False


def harden_host_process() -> None:
    """Before grading: become non-dumpable and drop model API keys from our environment (so no
    subprocess inherits them). Callers resolve the key they need first. Other credentials (the
    platform token) stay: a non-dumpable process's environment is unreadable to graders anyway."""
    make_non_dumpable()
    for name in [k for k in os.environ if _API_KEY.search(k)]:
        os.environ.pop(name, None)
