"""Bounties: the platform's open calls, stored from the change feed, searched by the browser."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from app.sync.store.database import Repository
from app.sync.store.records import Bounty, BountyFilter, BountyRow, checked_time

BOUNTY_SORTS = {
    "deadline": "deadline IS NULL, deadline, id",
    "-deadline": "deadline IS NULL, deadline DESC, id",
    "reward": "reward, id",
    "-reward": "reward DESC, id",
    "title": "title COLLATE NOCASE, id",
    "updated": "updated_at DESC, id",
}

_DETAIL_JSON = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":"))


class BountyRepository(Repository):
    def upsert(
        self, bounties: Iterable[dict[str, Any]], conn: sqlite3.Connection | None = None
    ) -> int:
        """Insert or replace bounties given as server objects; returns how many."""
        rows = [
            _bounty_columns(b) for b in bounties if isinstance(b, dict) and b.get("id") is not None
        ]
        if not rows:
            return 0
        with self._write(conn) as c:
            c.executemany(
                "INSERT INTO bounties (id, title, domain, status, reward, currency, deadline, "
                "env_kind, summary, tags, search_text, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "title = excluded.title, domain = excluded.domain, status = excluded.status, "
                "reward = excluded.reward, currency = excluded.currency, "
                "deadline = excluded.deadline, env_kind = excluded.env_kind, "
                "summary = excluded.summary, tags = excluded.tags, "
                "search_text = excluded.search_text, updated_at = excluded.updated_at",
                [r[:11] + r[13:] for r in rows],
            )
            c.executemany(
                "INSERT INTO bounty_details (id, brief, detail) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET brief = excluded.brief, detail = excluded.detail",
                [(r[0], r[11], r[12]) for r in rows],
            )
        return len(rows)

    def delete(self, ids: Iterable[str], conn: sqlite3.Connection | None = None) -> None:
        with self._write(conn) as c:
            c.executemany("DELETE FROM bounties WHERE id = ?", [(i,) for i in ids])

    def list(self, filters: BountyFilter | None = None) -> list[BountyRow]:
        """Bounties matching `filters`, sorted; fast enough to call on every keystroke."""
        filters = filters or BountyFilter()
        where, params = _bounty_where(filters)
        order = BOUNTY_SORTS.get(filters.sort)
        if order is None:
            raise ValueError(f"unknown sort {filters.sort!r}; choose one of {sorted(BOUNTY_SORTS)}")
        sql = (
            "SELECT id, title, domain, status, reward, currency, deadline, env_kind, summary, tags "
            f"FROM bounties {where} ORDER BY {order}"
        )
        if filters.limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [filters.limit, filters.offset]
        cursor = self._connection().execute(sql, params)
        return [
            BountyRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], _split_tags(r[9]))
            for r in cursor
        ]

    def count(self, filters: BountyFilter | None = None) -> int:
        where, params = _bounty_where(filters or BountyFilter())
        return (
            self._connection()
            .execute(f"SELECT count(*) FROM bounties {where}", params)
            .fetchone()[0]
        )

    def domains(self) -> list[tuple[str, int]]:
        """Every domain with its number of bounties (for the domain filter)."""
        rows = self._read(
            "SELECT domain, count(*) AS n FROM bounties GROUP BY domain ORDER BY domain"
        )
        return [(r["domain"], r["n"]) for r in rows]

    def tags(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for (joined,) in self._connection().execute("SELECT tags FROM bounties WHERE tags != ''"):
            for tag in joined.split("\n"):
                counts[tag] = counts.get(tag, 0) + 1
        return sorted(counts.items())

    def get(self, bounty_id: str) -> Bounty | None:
        rows = self._read(
            "SELECT b.id, title, domain, status, reward, currency, deadline, env_kind, summary, "
            "tags, COALESCE(d.brief, '') AS brief, COALESCE(d.detail, '{}') AS detail "
            "FROM bounties AS b LEFT JOIN bounty_details AS d ON d.id = b.id WHERE b.id = ?",
            (bounty_id,),
        )
        if not rows:
            return None
        r = rows[0]
        row = BountyRow(
            r["id"],
            r["title"],
            r["domain"],
            r["status"],
            r["reward"],
            r["currency"],
            r["deadline"],
            r["env_kind"],
            r["summary"],
            _split_tags(r["tags"]),
        )
        detail = json.loads(r["detail"])
        detail["brief"] = r["brief"]
        return Bounty(
            row=row,
            brief=r["brief"],
            rubric=detail.get("rubric"),
            constraints=detail.get("constraints"),
            detail=detail,
        )


def _bounty_columns(b: dict[str, Any]) -> tuple[Any, ...]:
    """The row for one bounty object (`reward` may be a number or {"amount", "currency"})."""
    tags = [str(t).replace("\n", " ") for t in (b.get("tags") or [])]
    reward = b.get("reward")
    currency = b.get("currency") or "USD"
    if isinstance(reward, dict):
        currency = reward.get("currency") or currency
        reward = reward.get("amount")
    title, summary, domain = (
        str(b.get("title") or ""),
        str(b.get("summary") or ""),
        str(b.get("domain") or ""),
    )
    try:
        amount = float(reward or 0)
    except (TypeError, ValueError):
        amount = 0.0
    return (
        str(b["id"]),
        title,
        domain,
        str(b.get("status") or "open"),
        amount,
        str(currency),
        b.get("deadline"),
        str(b.get("env_kind") or ""),
        summary,
        "\n".join(tags),
        " ".join([title, summary, domain, *tags]).lower(),
        str(b.get("brief") or ""),
        _DETAIL_JSON.encode({k: v for k, v in b.items() if k != "brief"}),
        b.get("updated_at"),
    )


def _split_tags(joined: str) -> tuple[str, ...]:
    return tuple(joined.split("\n")) if joined else ()


def _bounty_where(f: BountyFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for word in f.words():
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append("search_text LIKE ? ESCAPE '\\'")
        params.append(f"%{escaped}%")
    if f.domains:
        clauses.append(f"domain IN ({','.join('?' * len(f.domains))})")
        params += list(f.domains)
    if f.statuses:
        clauses.append(f"status IN ({','.join('?' * len(f.statuses))})")
        params += list(f.statuses)
    if f.tag:
        clauses.append("instr(char(10) || tags || char(10), ?) > 0")
        params.append("\n" + f.tag + "\n")
    if f.env_kind:
        clauses.append("env_kind = ?")
        params.append(f.env_kind)
    if f.min_reward is not None:
        clauses.append("reward >= ?")
        params.append(f.min_reward)
    if f.max_reward is not None:
        clauses.append("reward <= ?")
        params.append(f.max_reward)
    if f.deadline_after:
        clauses.append("deadline >= ?")
        params.append(checked_time(f.deadline_after))
    if f.deadline_before:
        bound = checked_time(f.deadline_before)
        if len(bound) == 10:  # a bare date means "up to the end of that day"
            clauses.append("deadline < ?")
            params.append((date.fromisoformat(bound) + timedelta(days=1)).isoformat())
        else:
            clauses.append("deadline <= ?")
            params.append(bound)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params
