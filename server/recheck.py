"""The server's own check of every revision: funnel stages 1–2 on the files it received.

The client's report is never trusted. The worker materialises the revision's blobs into a
private temporary folder, runs structural checks and sandboxed verification as for a package
that is not the operator's own (so the weak process sandbox is refused), and stores the
report. When the check cannot run at all (no sandbox backend on this host), the revision says
so in `check.error`, the job is retried with backoff, then given up; the submission stays in
`checking` rather than being blamed on its author.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path, PurePosixPath

from sqlalchemy.orm import Session

from app.findings import Stage
from app.funnel.report import Verdict
from server import changefeed, workflow
from server.clock import utcnow
from server.models import Blob, Revision, Submission
from server.worker import JobContext, JobKind

CHECK_REVISION = "check_revision"


class CheckCouldNotRun(Exception):
    """The platform could not check the revision (not the author's fault)."""


def materialise(session: Session, files: dict[str, str], root: Path) -> None:
    """Write each file of a revision from its blob, refusing any path that leaves `root`."""
    root = root.resolve()
    for path, sha256 in sorted(files.items()):
        relative = PurePosixPath(path)
        if relative.is_absolute() or ".." in relative.parts:
            raise CheckCouldNotRun(f"unsafe path in revision manifest: {path!r}")
        target = (root / Path(*relative.parts)).resolve()
        if root not in target.parents:
            raise CheckCouldNotRun(f"unsafe path in revision manifest: {path!r}")
        blob = session.get(Blob, sha256)
        if blob is None:
            raise CheckCouldNotRun(f"blob {sha256} for {path} is missing from the database")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob.data)
        session.expunge(blob)  # do not keep every file of the package in memory


def _stage_reason(report) -> str:
    if report.error:
        return report.error
    for stage in report.stages:
        if str(stage.status) == "error":
            reason = (
                stage.details.get("reason")
                or stage.details.get("error")
                or "the stage could not run"
            )
            return f"stage {stage.name}: {reason}"
    return "the funnel could not run"


def _run(ctx: JobContext) -> None:
    from app.funnel.pipeline import FunnelOptions, run_funnel

    submission_id, number = ctx.job.payload["submission_id"], int(ctx.job.payload["revision"])
    with ctx.platform.write() as session:
        revision = session.get(Revision, (submission_id, number))
        if revision is None:  # the submission was deleted; nothing to check
            ctx.complete(session)
            return
        revision.check_status = "running"
        revision.check_started_at = utcnow()
        revision.check_attempts = ctx.job.attempts
        changefeed.publish_revision(session, revision)
        files = dict(revision.files)

    workdir = Path(tempfile.mkdtemp(prefix="gauntlet-recheck-"))
    try:
        package = workdir / "package"
        package.mkdir()
        with ctx.platform.read() as session:
            materialise(session, files, package)
        settings = ctx.platform.settings
        # Judge graders get the operator's key only when configured (else GX212, no model call):
        # the server's own environment is never read for one.
        options = FunnelOptions(
            own_package=False,
            backend=settings.sandbox_backend,
            llm_api_key=settings.judge_api_key,
            llm_api_base=settings.judge_api_base,
        )
        try:
            report = run_funnel(
                package, stages=(Stage.STRUCTURE, Stage.VERIFY), options=options, cancel=ctx.cancel
            )
        except ImportError as exc:
            raise CheckCouldNotRun(
                f"this server has no sandboxed verification installed ({exc})"
            ) from exc
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report.package.path = f"{submission_id}@{number}"
    if report.verdict == Verdict.ERROR:
        raise CheckCouldNotRun(f"the server could not run its check: {_stage_reason(report)}")

    with ctx.platform.write() as session:
        ctx.complete(session)
        store_report(session, ctx.platform.settings, submission_id, number, report)


def store_report(session: Session, settings, submission_id: str, number: int, report) -> None:
    """Record the server's report on a revision and move the submission on (in review when it
    passed, check_failed when not) if it is still the latest revision and still checking."""
    revision = session.get(Revision, (submission_id, number))
    submission = session.get(Submission, submission_id, with_for_update=True)
    if revision is None or submission is None:
        return
    passed = report.verdict == Verdict.PASS
    revision.check_status = "passed" if passed else "failed"
    revision.check_verdict = str(report.verdict)
    revision.check_error = None
    revision.check_finished_at = utcnow()
    revision.check_digest = report.package.digest or None
    revision.report = report.to_dict()
    changefeed.publish_revision(session, revision)
    # Only the latest revision moves the submission; an older one's result is history.
    if submission.current_revision == number and submission.state == "checking":
        workflow.move(session, submission, "in_review" if passed else "check_failed")
        if passed and settings.auto_assign_reviewers:
            workflow.auto_assign(session, submission)
        changefeed.publish_submission(session, submission)


def _on_retry(session: Session, ctx: JobContext, error: str) -> None:
    revision = session.get(
        Revision, (ctx.job.payload["submission_id"], int(ctx.job.payload["revision"]))
    )
    if revision is not None:
        revision.check_status = "queued"
        revision.check_error = f"{error} (will retry automatically)"
        changefeed.publish_revision(session, revision)


def _on_give_up(session: Session, ctx: JobContext, error: str) -> None:
    revision = session.get(
        Revision, (ctx.job.payload["submission_id"], int(ctx.job.payload["revision"]))
    )
    if revision is not None:
        revision.check_status = "error"
        revision.check_error = (
            f"{error}. The platform operator has to fix this and re-queue the check."
        )
        revision.check_finished_at = utcnow()
        changefeed.publish_revision(session, revision)


def check_revision_kind() -> JobKind:
    return JobKind(run=_run, on_retry=_on_retry, on_give_up=_on_give_up)
