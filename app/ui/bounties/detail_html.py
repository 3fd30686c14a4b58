"""The bounty detail as HTML for a QTextBrowser: the brief's markdown, the rubric, the reward
and the deadline. Pure functions, so they are easy to test and fast to call on every click."""

from __future__ import annotations

import html
import re
from typing import Any

from app.ui.bounties.filtering import deadline_date
from app.ui.bounties.table_model import describe_deadline, format_reward

_MARKDOWN_EXTENSIONS = ["extra", "sane_lists"]


def markdown_to_html(text: str) -> str:
    import markdown  # imported on first use: it is not needed to show the window

    # The brief comes from the platform: raw HTML in it is shown as text, not rendered.
    md = markdown.Markdown(extensions=_MARKDOWN_EXTENSIONS)
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    # A brief's own headings sit below the pane's sections ("The brief", "How submissions are
    # scored"), so they are demoted: h1 -> h4, h2 -> h5, deeper -> h6.
    return re.sub(
        r"<(/?)h([1-6])\b",
        lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + 3)}",
        md.convert(text),
    )


def rubric_to_html(rubric: Any) -> str:
    if not rubric:
        return "<p><i>This bounty has no rubric yet.</i></p>"
    if isinstance(rubric, str):
        return markdown_to_html(rubric)
    if isinstance(rubric, dict):
        items = rubric.get("criteria") if isinstance(rubric.get("criteria"), list) else None
        if items is None:
            return (
                "<ul>"
                + "".join(
                    f"<li><b>{html.escape(str(k))}</b>: {html.escape(_plain(v))}</li>"
                    for k, v in rubric.items()
                )
                + "</ul>"
            )
        rubric = items
    if isinstance(rubric, list):
        rows = []
        for item in rubric:
            if isinstance(item, dict):
                name = item.get("criterion") or item.get("name") or item.get("title") or ""
                text = item.get("description") or item.get("text") or ""
                weight = item.get("weight") or item.get("points")
                weight_text = (
                    f" <span style='color:gray'>({html.escape(str(weight))})</span>"
                    if weight not in (None, "")
                    else ""
                )
                rows.append(
                    f"<li><b>{html.escape(str(name))}</b>{weight_text}"
                    f"{': ' + html.escape(str(text)) if text else ''}</li>"
                )
            else:
                rows.append(f"<li>{html.escape(str(item))}</li>")
        return "<ul>" + "".join(rows) + "</ul>"
    return f"<p>{html.escape(str(rubric))}</p>"


def bounty_html(bounty: Any) -> str:
    """`bounty` is the store's `Bounty` (row fields + brief, rubric, constraints)."""
    row = bounty.row
    deadline = describe_deadline(deadline_date(row))
    facts = [
        ("Reward", format_reward(row.reward, row.currency)),
        ("Deadline", deadline),
        ("Domain", row.domain.capitalize() or "—"),
        ("Status", row.status.replace("_", " ").capitalize()),
        (
            "Kind",
            {"qa": "Questions with answers", "code": "Code with tests"}.get(
                row.env_kind, row.env_kind or "—"
            ),
        ),
    ]
    facts_html = "".join(
        (
            "<tr><td style='color:gray; "
            f"padding-right:14px'>{html.escape(k)}</td><td><b>{html.escape(v)}</b></td></tr>"
        )
        for k, v in facts
    )
    tags = ", ".join(html.escape(t) for t in row.tags)
    parts = [
        f"<p class='title' style='margin-bottom:2px'>{html.escape(row.title)}</p>",
        f"<p style='color:gray; margin-top:0'>{html.escape(row.summary)}</p>"
        if row.summary
        else "",
        f"<table cellspacing='2'>{facts_html}</table>",
        f"<p style='color:gray'>Tags: {tags}</p>" if tags else "",
        "<h3>The brief</h3>",
        markdown_to_html(bounty.brief)
        if bounty.brief.strip()
        else "<p><i>No brief was given.</i></p>",
        "<h3>How submissions are scored</h3>",
        rubric_to_html(bounty.rubric),
    ]
    if bounty.constraints:
        parts += ["<h3>Constraints</h3>", rubric_to_html(bounty.constraints)]
    return "\n".join(p for p in parts if p)


def _plain(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)
