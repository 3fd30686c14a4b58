"""The package's tools.py as a verifiers 0.4 tool server (MCP), exported by Gauntlet Studio.

Task-scoped: verifiers starts one server per rollout (`python -m <module>.tools_server`), and
each loads its own copy of tools.py and runs its `setup(task)` hook with the rollout's task, so
every conversation starts from the module as written. Each public function of tools.py is one
tool, advertised under its own name with its own signature and docstring; a call's result is the
text Gauntlet Studio's replay gives (a tool's error comes back as "Error: ..." for the model).
"""

import functools
import inspect
import json
import os

import verifiers.v1 as vf

from .gauntlet_episodes import PackGrading

GRADING = PackGrading(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"))


class GauntletTools(vf.Toolset[vf.ToolsetConfig]):
    TOOL_PREFIX = None  # the tools keep their names: references call them so

    def __init__(self, config):
        super().__init__(config)
        self._tools = None

    async def setup_task(self, task):
        self._tools = GRADING.fresh_tools(json.loads(task.gauntlet_task))

    def register(self, mcp):
        if self._tools is None:  # no task channel (a server started by hand)
            self._tools = GRADING.fresh_tools({})
        for name, function in GRADING.tool_functions(self._tools).items():
            mcp.add_tool(
                self._tool(name, function),
                name=name,
                description=(function.__doc__ or "").strip() or None,
            )

    def _tool(self, name, function):
        @functools.wraps(function)
        def call(**kwargs):
            return GRADING.call_tool(self._tools, name, json.dumps(kwargs, default=str))

        # the arguments are the function's; the result is always the replay's text
        call.__signature__ = inspect.signature(function).replace(return_annotation=str)
        call.__annotations__ = {**getattr(function, "__annotations__", {}), "return": str}
        return call


if __name__ == "__main__":
    GauntletTools.run()
