"""Review benchmarks, each next to a baseline measured in the same run (budget: docs
DESIGN §8 / issue 13: a usable review screen for a 200-file submission in ≤ 1 s).

1. Open a 200-file submission for review: the queue's "Open" to a painted review page (files,
   task table, changes since the last review, threads, verdict form), with both revisions'
   files already fetched. Baseline: the author's Workspace opening the same folder.
2. The diff between its two revisions (20 of 200 files changed), as the review page computes
   it. Baseline: difflib.unified_diff over the same changed files, no structure.
3. Anchoring 500 threads on the new revision (each thread found again by its quoted text and
   context, as the platform re-anchors them). Baseline: 500 plain `str.find` of the quotes.

    .venv/bin/python bench/review.py [--files 200] [--threads 500] [--repeat 5]

Runs offscreen with a throwaway GAUNTLET_HOME. Downloading the blobs is not included (bench/sync.py
measures transfers).
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("GAUNTLET_HOME", tempfile.mkdtemp(prefix="gauntlet-bench-review-"))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SUBMISSION = "s_bench"


def _package(files: int, seed: int) -> dict[str, bytes]:
    """A qa package with `files` files: the template's core plus data files of ~60 lines."""
    from app.envpack.templates import create_from_template

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = create_from_template("qa-python", Path(tmp) / "pkg", bounty_id="b_bench")
        out = {
            p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
        }
    for i in range(files - len(out)):
        rows = [
            f"record {i}-{j}: {rng.random():.6f} {rng.choice('abcdefgh') * 8}" for j in range(60)
        ]
        out[f"data/part_{i:03d}.txt"] = ("\n".join(rows) + "\n").encode()
    return out


def _changed(files: dict[str, bytes], count: int, seed: int) -> dict[str, bytes]:
    rng = random.Random(seed)
    new = dict(files)
    for path in rng.sample(sorted(p for p in files if p.startswith("data/")), count):
        lines = new[path].decode().splitlines(keepends=True)
        for _ in range(3):
            lines[rng.randrange(len(lines))] = f"edited {rng.random():.6f}\n"
        new[path] = "".join(lines).encode()
    return new


def _store_with_revisions(old: dict[str, bytes], new: dict[str, bytes]):
    """A reviewer's local store: the submission, two revisions, my verdict on the first, and
    both revisions' checkouts written as the review page's fetch leaves them."""
    from app.sync.blobcache import BlobCache
    from app.sync.revision_files import checkout_folder, materialise
    from app.sync.store import LocalStore

    store = LocalStore(Path(os.environ["GAUNTLET_HOME"]) / "bench-store.sqlite")
    blobs = BlobCache(store.path.parent / "blobs")
    store.set_meta("me_id", "u_rev")
    store.submissions.upsert(
        {
            "id": SUBMISSION,
            "bounty_id": "b_bench",
            "author": "ada",
            "state": "in_review",
            "current_revision": 2,
            "reviewers": [{"id": "u_rev", "name": "rev"}],
        }
    )
    for number, files in ((1, old), (2, new)):
        manifest = {path: blobs.put(data) for path, data in files.items()}
        store.submissions.upsert_revision(
            {
                "submission_id": SUBMISSION,
                "number": number,
                "files": manifest,
                "check": {"status": "passed", "verdict": "pass"},
            }
        )
        target = checkout_folder(store, SUBMISSION, number)
        if not target.exists():
            materialise(blobs, manifest, target)
    store.reviews.upsert(
        {"id": "r1", "submission_id": SUBMISSION, "revision": 1, "verdict": "request_changes",
         "reviewer": {"id": "u_rev", "name": "rev"}}
    )  # fmt: skip
    return store, blobs


def bench_open(args, app, loop, store, blobs) -> tuple[list[float], list[float]]:
    from app.sync.revision_files import checkout_folder
    from app.ui.app_settings import AppSettings
    from app.ui.background_jobs import JobRunner
    from app.ui.review.review_page import ReviewPage
    from app.ui.workspace import WorkspaceView

    runner = JobRunner(lambda exc: print("error:", exc, file=sys.stderr))
    session = SimpleNamespace(store=store, engine=SimpleNamespace(blobs=blobs, store=store))
    session.client = None  # both checkouts exist: nothing is downloaded
    review_times, author_times = [], []
    folder = checkout_folder(store, SUBMISSION, 2)
    for _ in range(args.repeat):
        page = ReviewPage(settings=AppSettings(), credentials=None, job_runner=runner)
        page.session = session  # reading only: no engine to queue with
        page.resize(1400, 900)
        page.show()
        app.processEvents()
        opened = []
        page.opened.connect(opened.append)
        start = time.perf_counter()
        page.open_submission(SUBMISSION)
        while not opened:
            loop.run_until_complete(asyncio.sleep(0))
            app.processEvents()
        page.repaint()
        review_times.append(time.perf_counter() - start)
        page.shutdown()
        page.deleteLater()

        view = WorkspaceView()
        view.resize(1400, 900)
        view.show()
        app.processEvents()
        start = time.perf_counter()
        view.open_package(folder)
        app.processEvents()
        view.repaint()
        author_times.append(time.perf_counter() - start)
        view.shutdown()
        view.deleteLater()
        app.processEvents()
    runner.shutdown(wait=True)
    return review_times, author_times


def bench_diff(args, old: dict[str, bytes], new: dict[str, bytes]):
    from app.sync.revision_diff import diff_revisions

    sha = {path: hashlib.sha256(data).hexdigest() for path, data in old.items()}
    sha_new = {path: hashlib.sha256(data).hexdigest() for path, data in new.items()}
    ours, base = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        diffs = diff_revisions(sha, sha_new, old.__getitem__, new.__getitem__)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        for path in new:
            if old.get(path) != new[path]:
                list(
                    difflib.unified_diff(
                        old[path].decode().splitlines(), new[path].decode().splitlines()
                    )
                )
        base.append(time.perf_counter() - start)
    return ours, base, len(diffs)


def bench_anchor(args, files: dict[str, bytes], new: dict[str, bytes]):
    from app.platform.anchoring import locate, make_anchor

    rng = random.Random(7)
    texts = {p: d.decode() for p, d in files.items() if p.startswith("data/")}
    paths = sorted(texts)
    anchors = []
    for _ in range(args.threads):
        path = rng.choice(paths)
        line = rng.randrange(1, 58)
        anchors.append((path, make_anchor(texts[path], line, line + 1)))
    new_texts = {p: new[p].decode() for p in paths}
    ours, base = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        states = [locate(anchor, new_texts[path]).status for path, anchor in anchors]
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        for path, anchor in anchors:
            new_texts[path].find(anchor.quote)
        base.append(time.perf_counter() - start)
    return ours, base, {s: states.count(s) for s in sorted(set(states))}


def _ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--changed", type=int, default=20)
    parser.add_argument("--threads", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import qasync

    from app.ui.application import create_application

    app = create_application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    old = _package(args.files, seed=1)
    new = _changed(old, args.changed, seed=2)
    store, blobs = _store_with_revisions(old, new)

    review, author = bench_open(args, app, loop, store, blobs)
    print(f"open a {len(new)}-file submission for review (median of {args.repeat}):")
    print(f"  review page, painted    {_ms(review):8.1f} ms   (budget 1000 ms)")
    print(
        f"  baseline: author's open {_ms(author):8.1f} ms   ratio {_ms(review) / _ms(author):.2f}×"
    )

    ours, base, count = bench_diff(args, old, new)
    print(f"diff between the two revisions ({count} files changed of {len(new)}):")
    print(f"  diff_revisions          {_ms(ours):8.2f} ms")
    print(f"  baseline: difflib only  {_ms(base):8.2f} ms   ratio {_ms(ours) / _ms(base):.2f}×")

    ours, base, states = bench_anchor(args, old, new)
    print(f"anchor {args.threads} threads on the new revision ({json.dumps(states)}):")
    print(f"  locate (quote+context)  {_ms(ours):8.2f} ms")
    print(f"  baseline: str.find      {_ms(base):8.2f} ms   ratio {_ms(ours) / _ms(base):.1f}×")
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
