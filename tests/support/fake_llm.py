"""A small OpenAI-compatible chat-completions server on 127.0.0.1 that replays a script.

No model provider is reachable from the test machines, so LLM paths (judge grader, red team)
are tested against this real HTTP server through litellm, exactly as a user's local
OpenAI-compatible server (vLLM, llama.cpp, Ollama's /v1) would be used:

    with ScriptedLLMServer(["first reply", "second reply"]) as llm:
        complete(messages, model="openai/scripted", api_base=llm.url, api_key="test")

A script entry is a string (the reply), a dict ({"content", "prompt_tokens",
"completion_tokens", "status", "finish_reason", "tool_calls"}), or a callable taking the
request JSON and returning either. "tool_calls" is a list of {"name", "arguments" (a dict or
JSON text), "id"?}: the reply calls those tools (finish_reason "tool_calls"). When the
script runs out, the last entry repeats (or `default` if given). `latency_s` delays every
chat reply by that long, as a model's own generation time would (bench/calibrate.py).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ScriptEntry = str | dict[str, Any] | Callable[[dict[str, Any]], "str | dict[str, Any]"]


class ScriptedLLMServer:
    def __init__(
        self,
        script: Sequence[ScriptEntry],
        default: ScriptEntry | None = None,
        latency_s: float = 0.0,
    ) -> None:
        self.script = list(script)
        self.default = default
        self.latency_s = latency_s
        self.requests: list[dict[str, Any]] = []
        self.api_keys: list[
            str
        ] = []  # the bearer key of each chat request, to check which was sent
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-llm", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> ScriptedLLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _next_entry(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.requests.append(request)
            index = len(self.requests) - 1
            if index < len(self.script):
                entry = self.script[index]
            elif self.default is not None:
                entry = self.default
            elif self.script:
                entry = self.script[-1]
            else:
                entry = ""
        if callable(entry):
            entry = entry(request)
        return {"content": entry} if isinstance(entry, str) else dict(entry)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(
                        200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]}
                    )
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    request = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    self._send(400, {"error": {"message": "invalid JSON"}})
                    return
                bearer = self.headers.get("Authorization") or ""
                server.api_keys.append(bearer.removeprefix("Bearer ").strip())
                entry = server._next_entry(request)
                if server.latency_s:
                    time.sleep(server.latency_s)
                status = int(entry.get("status", 200))
                if status != 200:
                    self._send(
                        status,
                        {
                            "error": {
                                "message": entry.get("content") or "scripted error",
                                "type": "scripted",
                            }
                        },
                    )
                    return
                content = str(entry.get("content", ""))
                message: dict[str, Any] = {"role": "assistant", "content": content}
                calls = entry.get("tool_calls")
                if calls:
                    message["tool_calls"] = [_tool_call(call, i) for i, call in enumerate(calls)]
                    message["content"] = content or None
                finish = entry.get("finish_reason", "tool_calls" if calls else "stop")
                prompt_tokens = int(entry.get("prompt_tokens", _rough_tokens(request)))
                completion_tokens = int(entry.get("completion_tokens", max(1, len(content) // 4)))
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{len(server.requests)}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": request.get("model", "scripted"),
                        "choices": [
                            {
                                "index": 0,
                                "message": message,
                                "finish_reason": finish,
                            }
                        ],
                        "usage": {
                            "prompt_tokens": prompt_tokens,
                            "completion_tokens": completion_tokens,
                            "total_tokens": prompt_tokens + completion_tokens,
                        },
                    },
                )

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _tool_call(call: dict[str, Any], index: int) -> dict[str, Any]:
    arguments = call.get("arguments", {})
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    return {
        "id": call.get("id", f"call_{index}"),
        "type": "function",
        "function": {"name": call["name"], "arguments": arguments},
    }


def _rough_tokens(request: dict[str, Any]) -> int:
    messages = request.get("messages") or []
    return max(1, sum(len(str(m.get("content", ""))) for m in messages) // 4)
