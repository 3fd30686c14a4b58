"""The server's own check of every revision: funnel stages 1–2 on the files it received.

The client's report is never trusted. The worker materialises the revision's blobs into a
private temporary folder, runs structural checks and sandboxed verification as for a package
that is not the operator's own (so the weak process sandbox is refused), and stores the
report. When the check cannot run at all (no sandbox backend on this host), the revision says
so in `check.error`, the job is retried with backoff, then given up; the submission stays in
`checking` rather than being blamed on its author.

Each job is capped (app/platform/settings.py): a package that declares more time per grading,
memory or CPUs than the platform allows is not run; a check that runs longer than
`recheck_max_s` is stopped. Both fail the check with the reason in `check.error`
(check_failed: the package's own doing) and free the worker for the next job.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path, PurePosixPath

from sqlalchemy.orm import Session

from app.findings import Stage
from app.funnel.report import Verdict
from app.platform import changefeed, workflow
from app.platform.clock import utcnow
from app.platform.models import Blob, Revision, Submission
from app.platform.worker import JobContext, JobKind
from app.progress import CancelToken

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


def _revision_key(ctx: JobContext) -> tuple[str, int]:
    """The (submission id, revision number) a check job is about."""
    return ctx.job.payload["submission_id"], int(ctx.job.payload["revision"])


def _run(ctx: JobContext) -> None:
    submission_id, number = _revision_key(ctx)
    files = _start_check(ctx, submission_id, number)
    if files is None:
        return
    report, over_cap = _check_files(ctx, files)
    report.package.path = f"{submission_id}@{number}"
    if over_cap:
        with ctx.platform.write() as session:
            ctx.complete(session)
            store_over_cap(session, submission_id, number, report, over_cap)
        return
    if report.verdict == Verdict.ERROR:
        raise CheckCouldNotRun(f"the server could not run its check: {_stage_reason(report)}")

    with ctx.platform.write() as session:
        ctx.complete(session)
        store_report(session, ctx.platform.settings, submission_id, number, report)


def _start_check(ctx: JobContext, submission_id: str, number: int) -> dict[str, str] | None:
    """Mark the revision's check running and give its files; None (job done) when it is gone."""
    with ctx.platform.write() as session:
        revision = session.get(Revision, (submission_id, number))
        if revision is None:  # the submission was deleted; nothing to check
            ctx.complete(session)
            return None
        revision.check_status = "running"
        revision.check_started_at = utcnow()
        revision.check_attempts = ctx.job.attempts
        changefeed.publish_revision(session, revision)
        return dict(revision.files)


def _check_files(ctx: JobContext, files: dict[str, str]):
    """Run the funnel on the revision's files in a private folder. Gives the report and why the
    check went over a platform cap ("" when it did not)."""
    from app.funnel.pipeline import FunnelOptions

    settings = ctx.platform.settings
    workdir = Path(tempfile.mkdtemp(prefix="gauntlet-recheck-"))
    try:
        package = workdir / "package"
        package.mkdir()
        with ctx.platform.read() as session:
            materialise(session, files, package)
        # Judge graders get the operator's key only when configured (else GX212, no model call):
        # the server's own environment is never read for one.
        options = FunnelOptions(
            own_package=False,
            backend=settings.sandbox_backend,
            llm_api_key=settings.judge_api_key,
            llm_api_base=settings.judge_api_base,
            llm_from_environment=False,
        )
        over_cap = declared_over_caps(package, settings)
        stages = (Stage.STRUCTURE,) if over_cap else (Stage.STRUCTURE, Stage.VERIFY)
        report, timed_out = _run_funnel_capped(ctx, package, stages, options)
        if timed_out and not ctx.cancel.cancelled:
            over_cap = (
                f"the check ran longer than this platform allows ({settings.recheck_max_s:g} s "
                "per check) and was stopped; make grading faster (see the report's "
                "details.budget and any GX210 warnings), or grade fewer tasks"
            )
        return report, over_cap
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run_funnel_capped(ctx: JobContext, package: Path, stages, options):
    """Run the funnel, cancelled when the lease is lost or when it runs past its time cap.
    Gives the report and whether the time cap stopped it."""
    from app.funnel.pipeline import run_funnel

    cancel = CancelToken()
    ctx.cancel.on_cancel(cancel.cancel)
    timed_out = threading.Event()

    def time_is_up() -> None:
        timed_out.set()
        cancel.cancel()

    timer = threading.Timer(ctx.platform.settings.recheck_max_s, time_is_up)
    timer.daemon = True
    timer.start()
    try:
        report = run_funnel(package, stages=stages, options=options, cancel=cancel)
    except ImportError as exc:
        raise CheckCouldNotRun(
            f"this server has no sandboxed verification installed ({exc})"
        ) from exc
    finally:
        timer.cancel()
    return report, timed_out.is_set()


def declared_over_caps(package: Path, settings) -> str:
    """Why the package asks for more than one check may use, or "" (an unreadable manifest is
    the structural check's finding, not this one's)."""
    from app.envpack.loader import load_envpack

    pack = load_envpack(package).pack
    if pack is None:
        return ""
    grader, sandbox = pack.manifest.grader, pack.manifest.sandbox
    over = [
        (f"[grader] timeout_s = {grader.timeout_s:g}", settings.recheck_max_timeout_s, "s")
        if grader.timeout_s and grader.timeout_s > settings.recheck_max_timeout_s
        else None,
        (f"[sandbox] memory_mb = {sandbox.memory_mb}", settings.recheck_max_memory_mb, "MB")
        if sandbox.memory_mb and sandbox.memory_mb > settings.recheck_max_memory_mb
        else None,
        (f"[sandbox] cpus = {sandbox.cpus:g}", settings.recheck_max_cpus, "CPUs")
        if sandbox.cpus and sandbox.cpus > settings.recheck_max_cpus
        else None,
    ]
    said = [
        f"{what} is over this platform's cap of {cap:g} {unit}"
        for what, cap, unit in filter(None, over)
    ]
    if not said:
        return ""
    return (
        "env.toml asks for more than one check may use: "
        + "; ".join(said)
        + (". Lower it in env.toml and submit again")
    )


def _store_result(
    session: Session,
    submission_id: str,
    number: int,
    report,
    *,
    verdict: Verdict,
    error: str | None,
) -> Submission | None:
    """Record a finished check on the revision. Returns the submission when it is to move on:
    only the latest revision moves it, and only while checking; an older one's result is
    history (None)."""
    revision = session.get(Revision, (submission_id, number))
    submission = session.get(Submission, submission_id, with_for_update=True)
    if revision is None or submission is None:
        return None
    revision.check_status = "passed" if verdict == Verdict.PASS else "failed"
    revision.check_verdict = str(verdict)
    revision.check_error = error
    revision.check_finished_at = utcnow()
    revision.check_digest = report.package.digest or None
    revision.report = report.to_dict()
    changefeed.publish_revision(session, revision)
    if submission.current_revision == number and submission.state == "checking":
        return submission
    return None


def store_over_cap(session: Session, submission_id: str, number: int, report, reason: str) -> None:
    """The check failed on a platform cap: the author sees why (check.error) and can fix it."""
    submission = _store_result(
        session, submission_id, number, report, verdict=Verdict.FAIL, error=reason
    )
    if submission is not None:
        workflow.move(session, submission, "check_failed")
        changefeed.publish_submission(session, submission)


def store_report(session: Session, settings, submission_id: str, number: int, report) -> None:
    """Record the server's report on a revision and move the submission on (in review when it
    passed, check_failed when not) if it is still the latest revision and still checking."""
    verdict = report.verdict
    submission = _store_result(session, submission_id, number, report, verdict=verdict, error=None)
    passed = verdict == Verdict.PASS
    if submission is not None:
        workflow.move(session, submission, "in_review" if passed else "check_failed")
        if passed and settings.auto_assign_reviewers:
            workflow.auto_assign(session, submission)
        changefeed.publish_submission(session, submission)


def _on_retry(session: Session, ctx: JobContext, error: str) -> None:
    revision = session.get(Revision, _revision_key(ctx))
    if revision is not None:
        revision.check_status = "queued"
        revision.check_error = f"{error} (will retry automatically)"
        changefeed.publish_revision(session, revision)


def _on_give_up(session: Session, ctx: JobContext, error: str) -> None:
    revision = session.get(Revision, _revision_key(ctx))
    if revision is not None:
        revision.check_status = "error"
        revision.check_error = (
            f"{error}. The platform operator has to fix this and re-queue the check."
        )
        revision.check_finished_at = utcnow()
        changefeed.publish_revision(session, revision)


def check_revision_kind() -> JobKind:
    return JobKind(run=_run, on_retry=_on_retry, on_give_up=_on_give_up)
