"""Run by the verifiers peer venv's python (the real verifiers), never by pytest: loads an
exported multi-turn environment with verifiers' own loaders (its taskset, and the env the
taskset exports: the scripted user), then plays every case as a real verifiers episode:
`Env.run_episode` over the interception server, the chat harness program (verifiers' `null`
chat loop, see peer_verifiers_chat_harness.py), the package's tools as a per-rollout MCP tool
server, the scripted user, and the task's scoring. The model is an in-process client that
replays the case's assistant turns (tool calls included) as the model's completions, and an
empty reply once they run out. No model is called. Every case is also scored by verifiers' own
`Task.score` on a finished trace of the conversation Gauntlet replayed (fast: no harness).

    python peer_verifiers_multiturn_probe.py MODULE < {"cases": [{"task_id", "turns",
        "messages"}, ...], "episodes": [indices of the cases to play as whole episodes]}
prints {"version", "taskset", "env", "tasks", "gold", "scored": [{"reward", "trajectory"}],
"episodes": {index: {"reward", "rewards", "ok", "errors", "replies", "trajectory", "stop"}}}.
"""

import asyncio
import json
import sys
import uuid

import verifiers
import verifiers.v1 as vf
import verifiers.v1.interception.server as interception_server
from verifiers.v1.clients.client import Client, RelayReply
from verifiers.v1.graph import MessageNode
from verifiers.v1.trace import Trace, TraceTask


class ReplayClient(Client):
    """The model: in the rollout with trace id t, the n-th assistant turn of scripts[t] when
    the request holds n-1 assistant messages (empty once they run out)."""

    def __init__(self):
        self.scripts, self.served = {}, {}

    def completion(self, body, session_id):
        messages = body.get("messages") or []
        done = sum(1 for m in messages if m.get("role") == "assistant")
        turns = [t for t in self.scripts[session_id] if t["role"] == "assistant"]
        self.served[session_id] = self.served.get(session_id, 0) + 1
        turn = turns[done] if done < len(turns) else {"content": ""}
        message = {"role": "assistant", "content": turn.get("content")}
        if turn.get("tool_calls"):
            message["tool_calls"] = turn["tool_calls"]
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "replay"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if turn.get("tool_calls") else "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    async def get_response(self, dialect, body, sampling, session_id=None, turn=None, headers=None):
        raw = self.completion(body, session_id)
        response = dialect.parse_response(dialect.validate_response(raw))
        response.raw = raw
        return response

    async def relay(self, dialect, body, session_id=None, headers=None):
        events = dialect.stream_events(self.completion(body, session_id))

        async def chunks():
            for event in events:
                yield event

        async def close():
            return None

        return RelayReply("text/event-stream", chunks(), close)


def trajectory(trace):
    """The trace's final branch as plain dicts: role, text, tool calls as [name, arguments]."""
    out = []
    for message in trace.messages:
        content = message.content
        item = {
            "role": message.role,
            "content": vf.types.content_text(content) if isinstance(content, list) else content,
        }
        if isinstance(message, vf.AssistantMessage) and message.tool_calls:
            item["tool_calls"] = [[c.name, c.arguments] for c in message.tool_calls]
        out.append(item)
    return out


def replayed_trace(task, messages):
    """A finished rollout's trace holding `messages` (OpenAI dicts, the conversation Gauntlet
    replayed), each assistant message sampled, as a rollout records them."""
    nodes = []
    for message in messages:
        role = message["role"]
        if role == "system":
            typed = vf.SystemMessage(content=message["content"])
        elif role == "user":
            typed = vf.UserMessage(content=message["content"])
        elif role == "tool":
            typed = vf.ToolMessage(tool_call_id=message["tool_call_id"], content=message["content"])
        else:
            calls = [
                vf.ToolCall(
                    id=c["id"], name=c["function"]["name"], arguments=c["function"]["arguments"]
                )
                for c in message.get("tool_calls") or []
            ]
            typed = vf.AssistantMessage(content=message.get("content"), tool_calls=calls or None)
        parent = len(nodes) - 1 if nodes else None
        nodes.append(MessageNode(parent=parent, message=typed, sampled=role == "assistant"))
    return Trace(
        task=TraceTask(type=type(task).__name__, data=task.data, key=task.key, hash=task.hash),
        agent=vf.AgentInfo(config=vf.AgentConfig(), name="probe", trainable=False),
        nodes=nodes,
    )


async def play(env, task, turns, ctx, client):
    """One real verifiers episode of `task` with the model replaying `turns`."""
    ids = []

    def minted(trace):
        ids.append(trace.id)
        client.scripts[trace.id] = turns

    episode = await env.run_episode(task, ctx, on_trace=minted)
    (trace,) = episode.traces
    return {
        "reward": trace.reward,
        "rewards": {k: (r.score if r else None) for k, r in trace.rewards.items()},
        "ok": episode.ok,
        "errors": [e.message for e in [*episode.errors, *trace.errors]],
        "replies": sum(client.served.get(i, 0) for i in ids),
        "trajectory": trajectory(trace),
        "stop": trace.stop_condition,
    }


async def main(module, request):
    client = ReplayClient()
    interception_server.resolve_client = lambda config: client
    seat = request.get("seat", "assistant")  # the env's agent field ("agent": a plain taskset)
    config = vf.resolve_env_config(
        {
            "taskset": {"id": module},
            seat: {
                "harness": {"id": "peer_verifiers_chat_harness"},
                "runtime": {"type": "subprocess"},
            },
        }
    )
    env = vf.load_environment(config)
    tasks = {task.data.id: task for task in env.taskset}
    gold = {task_id: await task.validate(None) for task_id, task in tasks.items()}
    cases = request["cases"]
    scored = []
    for case in cases:  # verifiers' own scoring of the conversation Gauntlet replayed
        task = tasks[case["task_id"]]
        trace = replayed_trace(task, case["messages"])
        await task.score(trace)
        scored.append({"reward": trace.reward, "trajectory": trajectory(trace)})
    ctx = vf.ModelContext(model="replay", client=vf.EvalClientConfig(base_url="http://127.0.0.1:9"))
    async with env.serving():  # the episodes run side by side, as an eval's would
        played = await asyncio.gather(
            *(
                play(env, tasks[cases[i]["task_id"]], cases[i]["turns"], ctx, client)
                for i in request["episodes"]
            )
        )
    return {
        "version": verifiers.__version__,
        "taskset": type(env.taskset).__name__,
        "env": type(env).__name__,
        "tasks": list(tasks),
        "gold": gold,
        "scored": scored,
        "episodes": dict(zip(map(str, request["episodes"]), played, strict=True)),
    }


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1], json.load(sys.stdin)))
    print(json.dumps(result, default=str))
