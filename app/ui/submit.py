"""Submitting the open environment from the app, as `gauntlet submit` does (docs/sync.md):

1. stage 1 (structure) runs locally; with errors nothing is submitted and the findings say why;
2. the package is snapshotted into the outbox (a worker thread: it reads every file);
3. the platform link syncs; offline, the submission simply waits in the outbox and is sent by
   a later sync ("will be sent when you are back online").

Nothing here blocks the GUI thread; progress is reported in plain words through signals.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.errors import UserError
from app.findings import Stage

log = logging.getLogger(__name__)


class SubmitJob(QObject):
    progress = Signal(str)  # what is happening now, for people
    refused = Signal(object)  # the stage-1 Report with errors: nothing was submitted
    checked = Signal(object)  # the stage-1 Report without errors: the snapshot is queued
    sent = Signal(str)  # the platform has it (a sentence saying which revision)
    queued = Signal(str)  # saved in the outbox; a sentence saying it goes out when online
    failed = Signal(object)  # UserError (or a bug) explaining why it was not submitted
    running_changed = Signal(bool)

    def __init__(self, platform, job_runner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._platform = platform
        self._job_runner = job_runner
        self._running = False
        self._entry_seq: int | None = None
        self._bounty_id = ""
        platform.synced.connect(self._on_synced)
        platform.sync_failed.connect(self._on_sync_failed)

    @property
    def running(self) -> bool:
        return self._running

    def submit(self, root: str | Path, message: str = "") -> None:
        if self._running:
            return
        session = self._platform.session
        if session is None:
            self.failed.emit(
                UserError(
                    (
                        "The app is not connected to a platform yet, "
                        "so it has nowhere to queue the submission."
                    ),
                    (
                        "Wait until the status bar shows the platform (or "
                        "check Settings → Platform), then submit again."
                    ),
                )
            )
            return
        self._set_running(True)
        self.progress.emit("Checking the structure (stage 1) before submitting…")
        self._job_runner.run_in_thread(
            _check_and_queue,
            session,
            Path(root),
            message,
            on_done=self._on_checked,
            on_error=self._fail,
        )

    # -- steps, on the GUI thread ----------------------------------------------------------------

    def _on_checked(self, outcome) -> None:
        report, entry, bounty_id = outcome
        if entry is None:
            self._set_running(False)
            self.refused.emit(report)
            return
        self._entry_seq, self._bounty_id = entry.seq, bounty_id
        self.checked.emit(report)
        files = len(entry.payload.get("files") or ())
        self.progress.emit(
            f"Saved a snapshot of {files} files for bounty {bounty_id}; sending it to the platform…"
        )
        self._platform.sync_now()

    def _on_synced(self, result) -> None:
        seq = self._entry_seq
        if seq is None:
            return
        refusal = next((m for s, m in result.failed if s == seq), None) or next(
            (
                f"{c.message} ({c.hint})" if c.hint else c.message
                for c in result.conflicts
                if c.seq == seq
            ),
            None,
        )
        if refusal:
            self._done()
            self.failed.emit(
                UserError(
                    f"The platform did not accept the submission: {refusal}",
                    "See the Submissions screen; fix the cause and submit again.",
                )
            )
            return
        store = self._platform.session.store if self._platform.session is not None else None
        waiting = store is not None and any(e.seq == seq for e in store.outbox.pending())
        if not waiting:
            submission = (
                store.submissions.for_bounty(self._bounty_id) if store is not None else None
            )
            self._done()
            where = (
                f" as revision {submission.latest_revision} of {submission.id}"
                if submission is not None and submission.latest_revision
                else ""
            )
            self.sent.emit(
                f"Submitted to bounty {self._bounty_id}{where}. The platform now re-checks it; "
                "its result appears in Submissions."
            )
            return
        if str(result.state.phase) == "online":
            return  # that sync began before the snapshot was queued; the next one sends it
        self._done()
        self.queued.emit(
            f"Saved. The platform cannot be reached right now ({result.state.message}); your "
            "submission will be sent when you are back online. "
            "You can keep working or close the app."
        )

    def _on_sync_failed(self, exc: BaseException) -> None:
        if self._entry_seq is None:
            return
        self._done()
        self.queued.emit(
            f"Saved, but the last sync stopped: {getattr(exc, 'message', exc)}. Your submission "
            "stays queued and is sent by the next sync."
        )

    def _fail(self, exc: BaseException) -> None:
        self._done()
        self.failed.emit(exc)

    def _done(self) -> None:
        self._entry_seq = None
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self._running = running
        self.running_changed.emit(running)


def _check_and_queue(session, root: Path, message: str):
    """Worker thread: stage 1, the bounty this answers, then the snapshot into the outbox."""
    from app.funnel.pipeline import run_funnel

    report = run_funnel(root, stages=(Stage.STRUCTURE,))
    if report.errors():
        return report, None, ""
    bounty_id = bounty_for(session.store, root)
    entry = session.engine.queue_submit(
        root, bounty_id, message=message, client_report=report.to_dict()
    )
    return report, entry, bounty_id


def bounty_for(store, root: Path) -> str:
    """The bounty named in env.toml, else the one the environment was started from."""
    from app.envpack.loader import load_envpack

    pack = load_envpack(root).pack
    bounty_id = (pack.manifest.package.bounty or "").strip() if pack is not None else ""
    if not bounty_id:
        draft = store.drafts.for_path(root)
        bounty_id = (draft.bounty_id or "") if draft is not None else ""
    if not bounty_id:
        raise UserError(
            "This environment does not say which bounty it answers, so it cannot be submitted.",
            "Add the bounty id to env.toml under [package] "
            '(bounty = "b_…"), or start the environment '
            "from the bounty in the Bounties screen.",
            where="env.toml",
        )
    if store.bounties.get(bounty_id) is None and store.cursor is not None:
        raise UserError(
            f"There is no bounty '{bounty_id}' on this platform.",
            "Check the bounty id in env.toml against the Bounties screen, then submit again.",
            where="env.toml",
        )
    return bounty_id
