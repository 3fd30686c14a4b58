"""Small helpers shared by the sync tests."""

from __future__ import annotations


def fast_policy():
    from app.sync.outbox import RetryPolicy

    return RetryPolicy(immediate_attempts=3, base_delay_s=0.01, max_delay_s=0.05)


def make_package(root, files: int = 10, *, salt: str = "") -> dict[str, bytes]:
    """A package folder with `files` files (env.toml plus data); returns relpath -> bytes."""
    from pathlib import Path

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    contents = {"env.toml": f'format = "gauntlet/1"\n# {salt}\n'.encode()}
    for i in range(files - 1):
        contents[f"data/part-{i:03d}.txt"] = f"file {i} {salt}\n".encode() * (1 + i % 7)
    for rel, data in contents.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return contents
