"""Sync benchmark: first sync of 10,000 bounties, an unchanged re-sync, and the upload of a
200-file package, each next to a baseline measured in the same run on the same server.

    .venv/bin/python bench/sync.py [--bounties 10000] [--files 200] [--repeat 3]

Baselines (what the network and the server cost with no client logic at all):
- first sync   vs a raw paged fetch of the same change feed with httpx (no parsing into a store)
- re-sync      vs one raw GET of the feed at the current cursor
- upload       vs raw PUTs of the same number of blobs (a different package, same sizes)
Budgets (docs DESIGN §8): first sync ≤ 3 s, unchanged re-sync ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import ssl
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

TLS = ssl.create_default_context()  # built once, outside every timing (as the client does)

DOMAINS = [
    "biology",
    "chemistry",
    "law",
    "mathematics",
    "medicine",
    "finance",
    "software",
    "physics",
    "linguistics",
    "economics",
]
WORDS = [
    "enzyme",
    "kinetics",
    "contract",
    "clause",
    "theorem",
    "proof",
    "dosage",
    "triage",
    "ledger",
    "audit",
    "compiler",
    "parser",
    "protein",
    "ligand",
    "statute",
    "precedent",
    "integral",
    "matrix",
    "portfolio",
    "risk",
    "genome",
    "assay",
]


def bounty_bodies(n: int) -> list[dict]:
    rng = random.Random(7)
    now = datetime.now(UTC)
    bodies = []
    for i in range(n):
        words = " ".join(rng.choice(WORDS) for _ in range(6))
        bodies.append(
            {
                "title": f"{words.title()} #{i}",
                "summary": f"Build an environment about {words}.",
                "domain": DOMAINS[i % len(DOMAINS)],
                "tags": rng.sample(WORDS, 3),
                "reward": rng.randrange(200, 20000),
                "currency": "USD",
                "deadline": (now + timedelta(days=rng.randrange(10, 400))).isoformat(),
                "env_kind": "qa",
                "constraints": {"min_tasks": 20},
                "brief": "# Brief\n\n" + " ".join(rng.choice(WORDS) for _ in range(150)),
                "rubric": [
                    {
                        "id": "correctness",
                        "title": "Correctness",
                        "description": "Right answers.",
                        "weight": 1.0,
                        "max_score": 5,
                    }
                ],
            }
        )
    return bodies


def make_package(root: Path, files: int, salt: str) -> None:
    rng = random.Random(salt)
    root.mkdir(parents=True, exist_ok=True)
    (root / "env.toml").write_text(f'format = "gauntlet/1"\n# {salt}\n')
    for i in range(files - 1):
        path = root / "data" / f"f{i:03d}.jsonl"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(f"{salt}-{i}\n".encode() + rng.randbytes(rng.randrange(500, 8000)))


async def raw_feed(url: str, token: str, cursor: str | None = None) -> tuple[int, str]:
    """Baseline: page through the feed with httpx and nothing else."""
    headers = {"Authorization": f"Bearer {token}"}
    count = 0
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, verify=TLS) as client:
        while True:
            params = {"limit": 2000, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/v1/changes", params=params)).json()
            count += len(page["changes"])
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return count, cursor


async def raw_upload(url: str, token: str, root: Path) -> int:
    """Baseline: PUT every file of a package as a blob, nothing else."""
    import hashlib

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"}
    files = sorted(p for p in root.rglob("*") if p.is_file())
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, verify=TLS) as client:
        for path in files:
            data = path.read_bytes()
            reply = await client.put(f"/v1/blobs/{hashlib.sha256(data).hexdigest()}", content=data)
            reply.raise_for_status()
    return len(files)


def start_server(home: Path, bounties: int):
    """Seed a SQLite platform database, then serve it from its own process (`gauntlet serve`)."""
    import socket
    import subprocess

    from app.platform.auth import create_user
    from app.platform.demo import bulk_insert_bounties, seed_demo
    from app.platform.platform import Platform
    from app.platform.settings import Settings

    db_url = f"sqlite:///{home / 'platform.sqlite3'}"
    platform = Platform.open(Settings(database_url=db_url, data_dir=home / "platform"))
    seed_demo(platform)
    seeded, _ = timed(lambda: bulk_insert_bounties(platform, bounty_bodies(bounties)))
    with platform.write() as session:
        _user, token = create_user(session, "bench-author", "author")
    platform.close()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port), "--db", db_url, "--no-worker"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                return url, token, server, seeded
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not start: {server.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def line(name: str, seconds: float, baseline: float, budget: float | None = None) -> str:
    ratio = seconds / baseline if baseline > 0 else float("inf")
    verdict = ""
    if budget is not None:
        verdict = f"   budget {budget * 1000:.0f} ms: {'OK' if seconds <= budget else 'OVER'}"
    return (
        f"{name:<34} {seconds * 1000:9.1f} ms   baseline {baseline * 1000:8.1f} ms   "
        f"ratio {ratio:5.2f}×{verdict}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bounties", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="gauntlet-bench-sync-"))
    os.environ["GAUNTLET_HOME"] = str(home)
    from app.sync.platform import PlatformConnection
    from app.sync.session import SyncSession
    from app.sync.store import BountyFilter

    url, token, server, seeded = start_server(home, args.bounties)
    try:
        print(
            f"server: {url} (separate process, SQLite); seeded {args.bounties} bounties in "
            f"{seeded:.1f} s; {args.repeat} runs each, medians\n"
        )

        base_first, base_resync, first, resync = [], [], [], []
        for run in range(args.repeat):
            seconds, (count, cursor) = timed(lambda: asyncio.run(raw_feed(url, token)))
            base_first.append(seconds)
            base_resync.append(timed(lambda c=cursor: asyncio.run(raw_feed(url, token, c)))[0])

            session = SyncSession(PlatformConnection(url, token, f"bench-{run}"))
            seconds, result = timed(lambda s=session: asyncio.run(s.engine.sync()))
            assert result.state.phase == "online", result.state.message
            assert session.store.bounties.count() == count, (session.store.bounties.count(), count)
            first.append(seconds)
            resync.append(timed(lambda s=session: asyncio.run(s.engine.sync()))[0])
            if run < args.repeat - 1:
                session.store.close()

        print(
            line(
                f"first sync, {count} bounties",
                statistics.median(first),
                statistics.median(base_first),
                3.0,
            )
        )
        print(
            line(
                "unchanged re-sync",
                statistics.median(resync),
                statistics.median(base_resync),
                0.100,
            )
        )

        store = session.store
        full, _ = timed(lambda: store.bounties.list())
        filtered, rows = timed(
            lambda: store.bounties.list(BountyFilter(text="enzyme", domains=["biology"]))
        )
        print(
            f"{'store: list all / filtered':<34} {full * 1000:9.1f} ms / {filtered * 1000:.1f} ms "
            f"({len(rows)} rows)  (UI reads; its own budget is 50 ms keystroke→repaint)"
        )

        bounty_id = store.bounties.list(BountyFilter(statuses=["open"], limit=1))[0].id
        upload, base_upload = [], []
        for run in range(args.repeat):
            baseline_pkg, package = home / f"raw-{run}", home / f"pkg-{run}"
            make_package(baseline_pkg, args.files, f"raw-{run}")
            make_package(package, args.files, f"pkg-{run}")
            base_upload.append(
                timed(lambda p=baseline_pkg: asyncio.run(raw_upload(url, token, p)))[0]
            )

            def submit(p=package, run=run):
                session.engine.queue_submit(p, bounty_id, message=f"bench {run}")
                return asyncio.run(session.engine.sync())

            seconds, result = timed(submit)
            assert result.sent == 1, result.state.message
            upload.append(seconds)
        print(
            line(
                f"submit {args.files}-file package",
                statistics.median(upload),
                statistics.median(base_upload),
            )
        )
        print(
            "\n(submit = read + snapshot + queue + blob batch check + uploads, 4 at a time + "
            "revision + refresh; baseline = sequential bare PUTs of as many blobs)"
        )
        asyncio.run(session.client.aclose())
        session.store.close()
    finally:
        server.terminate()
        server.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
