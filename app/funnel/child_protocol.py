"""The wire format between the app and its funnel worker process (app/funnel/child.py starts
it, app/funnel/child_worker.py is its side).

Protocol `gauntlet-funnel-child/1`: one JSON object per line, UTF-8.

    parent → child (stdin)
      {"protocol": "gauntlet-funnel-child/1", "path": "...", "stages": ["structure", ...],
       "options": {FunnelOptions fields, including llm_api_key}}      the run request
      {"op": "cancel"}                                                 stop cleanly
      end of file                  the parent is gone: cancel, and exit within the grace period
    child → parent (stdout)
      {"type": "started", "pid": 123}
      {"type": "event", "event": {ProgressEvent}}                     many
      {"type": "report", "report": {gauntlet-report/1}}               last, on success
      {"type": "error", "kind": "user" | "sandbox-unavailable" | "request" | "internal",
       "message": "...", "hint": "...", "where": ..., "detail": "..."}  last, on failure

The API key travels only in the request on stdin: never in argv (visible to every user in
`ps`) and never in the child's environment. The child's stderr carries its log lines; whatever
a library prints to stdout is diverted to stderr, so it cannot corrupt the protocol.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from app.findings import Finding, Stage
from app.funnel.pipeline import FunnelOptions
from app.progress import ProgressEvent

PROTOCOL = "gauntlet-funnel-child/1"
# After a cancel, the child has this long to stop its sandbox and exit before it is killed.
DEFAULT_GRACE_S = 20.0


def event_to_dict(event: ProgressEvent) -> dict[str, Any]:
    data: dict[str, Any] = {
        "stage": str(event.stage),
        "kind": event.kind,
        "done": event.done,
        "total": event.total,
        "message": event.message,
    }
    if event.finding is not None:
        data["finding"] = event.finding.to_dict()
    if event.data:
        data["data"] = event.data
    return data


def event_from_dict(data: dict[str, Any]) -> ProgressEvent:
    finding = data.get("finding")
    return ProgressEvent(
        stage=Stage(data["stage"]),
        kind=str(data["kind"]),
        done=int(data.get("done") or 0),
        total=data.get("total"),
        message=str(data.get("message") or ""),
        finding=Finding.from_dict(finding) if finding else None,
        data=data.get("data") or {},
    )


def options_to_dict(options: FunnelOptions) -> dict[str, Any]:
    return dataclasses.asdict(options)


def options_from_dict(data: dict[str, Any]) -> FunnelOptions:
    known = {f.name for f in dataclasses.fields(FunnelOptions)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown funnel option(s): {', '.join(unknown)}")
    return FunnelOptions(**data)


def encode_message(message: dict[str, Any]) -> bytes:
    # default=str: stage details and evidence are meant to be JSON already; a stray Path or
    # enum must not lose the whole report.
    return (json.dumps(message, ensure_ascii=False, default=str) + "\n").encode("utf-8")
