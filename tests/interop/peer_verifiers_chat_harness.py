"""A verifiers harness for the interop tests, run by the verifiers peer venv (never by pytest):
verifiers' own `null` chat harness (its real chat program: the model loop, MCP tools, resumable
turns), launched with the peer venv's python, which has every package the program declares,
instead of a uv environment made for it (`uv sync --script`, which downloads them). Selected
with `harness.id = "peer_verifiers_chat_harness"`."""

import hashlib
import sys

from verifiers.v1.harnesses.null.harness import NullHarness
from verifiers.v1.harnesses.utils.launch import CHAT_PROGRAM_SOURCE, launch_chat_program

__all__ = ["LocalChatHarness"]


class _LocalScripts:
    """The runtime, except that a PEP 723 script runs with this python as it is."""

    def __init__(self, runtime):
        self._runtime = runtime

    def __getattr__(self, name):
        return getattr(self._runtime, name)

    async def prepare_uv_script(self, script, env=None, *, activate=True):
        data = script.encode() if isinstance(script, str) else script
        path = f"vf-chat-{hashlib.sha256(data).hexdigest()[:16]}.py"
        await self._runtime.write(path, data)
        return [sys.executable, path]


class LocalChatHarness(NullHarness):
    async def setup(self, runtime):
        return None

    async def launch(
        self, ctx, trace, runtime, endpoint, secret, mcp_urls, data, tool_interception_url=None
    ):
        system_prompt, prompt = self.resolve_prompt(data)
        extra = (
            [f"--tool-interception-url={tool_interception_url}"] if tool_interception_url else []
        )
        return await launch_chat_program(
            CHAT_PROGRAM_SOURCE,
            self.config,
            ctx,
            trace,
            _LocalScripts(runtime),
            endpoint,
            secret,
            mcp_urls,
            system_prompt,
            prompt,
            extra_args=extra,
        )
