"""What a structural check sees: the load result, and one way to report a finding."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.envpack.loader import LoadResult
from app.envpack.model import EnvPack, Span
from app.envpack.rules import rule
from app.envpack.source import PackageSource, ReadResult
from app.findings import Finding


@dataclass(slots=True)
class CheckContext:
    result: LoadResult
    findings: list[Finding] = field(default_factory=list)

    @property
    def pack(self) -> EnvPack:
        assert self.result.pack is not None  # checks with needs_pack only run with a pack
        return self.result.pack

    @property
    def source(self) -> PackageSource:
        assert self.result.source is not None
        return self.result.source

    def report(
        self, code: str, message: str, span: Span, hint: str | None = None, **extra: Any
    ) -> Finding:
        finding = rule(code).finding(message, hint, **span.where(), **extra)
        self.findings.append(finding)
        return finding

    def at_key(self, key: str) -> Span:
        """Where manifest key `key` is written (or its table, or env.toml)."""
        return self.result.manifest_span(key)

    def at_record(self, file: str, line: int | None, key: str | None = None) -> Span:
        return self.result.record_span(file, line, key)

    def tasks_file(self) -> str:
        return self.result.files.get("tasks") or self.pack.manifest.tasks_path

    def read_named_file(
        self, rel: str | None, span: Span, *, outside: str, missing: str, hint: str
    ) -> ReadResult | None:
        """The file a manifest key names (`rel` is None when the path leaves the package); None
        once GX124 (`outside`) or GX120 (`missing`, with `hint`) is reported at `span`."""
        if rel is None:
            self.report("GX124", outside, span)
            return None
        read = self.source.read_text(rel)
        if read.problem in ("missing", "directory"):
            self.report("GX120", missing, span, hint=hint)
            return None
        return read
