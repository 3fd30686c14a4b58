"""The threads panel and the new-thread form against the real local platform: a thread with a
suggestion started from a selection and synced, a task-row thread, reply / resolve / reopen,
and threads grouped as outdated after the author changes their lines in a new revision."""

from __future__ import annotations

import json

from app.ui.review.comment_form import NewThreadForm
from app.ui.review.threads_panel import READ_ONLY, ThreadsPanel


def _lines(path, start: int, end: int) -> str:
    return "\n".join(path.read_text(encoding="utf-8").splitlines()[start - 1 : end])


def _panel(qtbot, session, submission_id: str) -> ThreadsPanel:
    panel = ThreadsPanel()
    qtbot.addWidget(panel)
    panel.resize(620, 820)
    panel.set_engine(session.engine)
    panel.show_submission(submission_id)
    panel.show()
    return panel


def _start_thread(qtbot, review, **where) -> NewThreadForm:
    form = NewThreadForm(review.reviewer.engine, review.submission_id, 1, **where)
    qtbot.addWidget(form)
    form.show()
    return form


def test_a_thread_with_a_suggestion_goes_from_the_form_to_the_author(qtbot, review):
    grader = review.package / "grader.py"
    selected = _lines(grader, 1, 2)
    form = _start_thread(
        qtbot, review, path="grader.py", start_line=1, end_line=2, selected_text=selected
    )
    assert form.windowTitle() == "New thread on grader.py:1-2"
    assert form.selection_view.toPlainText() == selected
    assert form.severity() == "normal"  # the default
    assert form.suggestion.toPlainText() == selected and not form.suggestion.isEnabled()

    # Refused with a clear message, nothing queued: an empty body, an unchanged suggestion.
    form.ok_button.click()
    assert "comment is empty" in form.error.text() and form.error.isVisible()
    form.body.set_text("Explain **why** the grader strips spaces.")
    form.suggest_box.setChecked(True)
    form.ok_button.click()
    assert "same as the selected lines" in form.error.text()
    assert review.reviewer.store.outbox.pending() == []

    form.severity_buttons["blocking"].setChecked(True)
    form.suggestion.setPlainText("# Compare answers exactly (spaces matter).\n" + selected)
    assert not form.error.isVisible()  # editing clears the old message
    form.body.setCurrentIndex(1)  # the preview renders the markdown
    assert "why" in form.body.preview.toPlainText()
    assert "**" not in form.body.preview.toPlainText()
    review.screenshot(form, "review-new-thread.png")
    with qtbot.waitSignal(form.created) as created:
        form.ok_button.click()
    assert created.args[0].kind == "thread" and form.result() == form.DialogCode.Accepted

    panel = _panel(qtbot, review.reviewer, review.submission_id)
    (pending,) = panel.cards.values()
    assert pending.waiting_label.isVisible() and "waiting to sync" in pending.waiting_label.text()
    assert not pending.reply_button.isEnabled()  # not on the platform yet

    review.sync(review.reviewer)
    panel.refresh()
    (card,) = panel.cards.values()
    thread = card.view.thread
    assert not card.waiting_label.isVisible() and thread.severity == "blocking"
    with qtbot.waitSignal(panel.thread_activated) as activated:
        card.location.linkActivated.emit("#")
    assert activated.args[0].id == thread.id and (thread.start_line, thread.end_line) == (1, 2)
    assert card.apply_button.isHidden()  # the reviewer proposes; only the author applies
    panel.applies_suggestions = True  # as the author's Review tab sets it
    panel.refresh()
    (card,) = panel.cards.values()
    assert not card.apply_button.isHidden()
    with qtbot.waitSignal(panel.suggestion_requested) as wanted:
        card.apply_button.click()
    assert wanted.args[0].suggestion.startswith("# Compare answers exactly")

    # The author's app gets it through the sync, suggestion and all.
    review.sync(review.author)
    (mine,) = review.author.store.reviews.threads_for(review.submission_id)
    assert (mine.id, mine.file, mine.severity) == (thread.id, "grader.py", "blocking")
    assert mine.suggestion == "# Compare answers exactly (spaces matter).\n" + selected
    assert mine.comments[0].body == "Explain **why** the grader strips spaces."


def test_task_rows_replies_resolving_and_reopening(qtbot, review):
    task = json.loads((review.package / "tasks.jsonl").read_text().splitlines()[0])["id"]
    form = _start_thread(qtbot, review, task_id=task)
    form.body.set_text("This task's answer is ambiguous.")
    form.severity_buttons["nit"].setChecked(True)
    form.ok_button.click()
    review.sync(review.reviewer)
    panel = _panel(qtbot, review.reviewer, review.submission_id)
    (card,) = panel.cards.values()
    assert card.view.where == f"task {task}" and card.view.thread.file == "tasks.jsonl"
    thread_id = card.view.key

    card.open_reply()
    card.reply_edit.setPlainText("   ")
    card.reply_button.click()
    card.reply_box.findChild(type(card.reply_button), "primary").click()
    assert "reply is empty" in card.reply_error.text()
    card.reply_edit.setPlainText("Which unit is expected?")
    with qtbot.waitSignal(panel.changed):
        card.reply_box.findChild(type(card.reply_button), "primary").click()
    card = panel.cards[thread_id]
    assert card.view.replies[-1].pending  # shown at once, marked waiting to sync
    review.sync(review.reviewer)
    panel.refresh()
    assert not panel.cards[thread_id].view.replies[-1].pending

    with qtbot.waitSignal(panel.changed):
        panel.cards[thread_id].resolve_button.click()
    assert "resolving, waiting to sync" in panel.cards[thread_id].waiting_label.text()
    review.sync(review.reviewer)
    panel.refresh()
    card = panel.cards[thread_id]
    assert card.view.resolved and card.resolve_button.text() == "Reopen"
    assert panel.resolved_toggle.text() == "Resolved · 1" and not card.isVisibleTo(panel)
    panel.resolved_toggle.click()
    assert card.isVisibleTo(panel)

    assert _on_server(review, thread_id)["resolved"] is True

    with qtbot.waitSignal(panel.changed):
        panel.cards[thread_id].resolve_button.click()  # now "Reopen"
    review.sync(review.reviewer)
    panel.refresh()
    assert not panel.cards[thread_id].view.resolved and panel.resolved_toggle is None
    assert _on_server(review, thread_id)["resolved"] is False
    assert [r.body for r in panel.cards[thread_id].view.replies] == ["Which unit is expected?"]


def test_the_other_side_sees_a_reopen_after_syncing(qtbot, review):
    form = _start_thread(
        qtbot,
        review,
        path="grader.py",
        start_line=1,
        end_line=1,
        selected_text=_lines(review.package / "grader.py", 1, 1),
    )
    form.body.set_text("Is this title right?")
    form.ok_button.click()
    review.sync(review.reviewer)
    panel = _panel(qtbot, review.reviewer, review.submission_id)
    (thread_id,) = panel.cards
    panel.cards[thread_id].resolve_button.click()
    review.sync(review.reviewer, review.author)
    author_panel = _panel(qtbot, review.author, review.submission_id)
    assert author_panel.cards[thread_id].view.resolved
    author_panel.cards[thread_id].resolve_button.click()  # the author reopens it
    review.sync(review.author, review.reviewer)
    assert _on_server(review, thread_id)["resolved"] is False
    panel.refresh()
    assert not panel.cards[thread_id].view.resolved


def _on_server(review, thread_id: str) -> dict:
    return review.run(review.reviewer.client.get(f"/v1/threads/{thread_id}")).data


def test_threads_on_changed_lines_are_listed_first_as_outdated(qtbot, review):
    grader = review.package / "grader.py"
    for start, end, body in ((1, 2, "Explain this."), (5, 5, "Fine, but name it better.")):
        form = _start_thread(
            qtbot,
            review,
            path="grader.py",
            start_line=start,
            end_line=end,
            selected_text=_lines(grader, start, end),
        )
        form.body.set_text(body)
        form.ok_button.click()
    review.sync(review.reviewer)
    panel = _panel(qtbot, review.reviewer, review.submission_id)
    first = next(c for c in panel.cards.values() if c.view.body == "Explain this.")
    with qtbot.waitSignal(panel.changed):
        first.resolve_button.click()
    form = _start_thread(
        qtbot,
        review,
        path="grader.py",
        start_line=3,
        end_line=3,
        selected_text=_lines(grader, 3, 3),
    )
    form.body.set_text("Check this import.")
    form.ok_button.click()
    form = _start_thread(
        qtbot, review, path="grader.py", start_line=14, end_line=14,
        selected_text=_lines(grader, 14, 14),
    )  # fmt: skip
    form.body.set_text("Responses can be longer: some equations have **many** species.")
    form.severity_buttons["blocking"].setChecked(True)
    form.suggest_box.setChecked(True)
    form.suggestion.setPlainText("MAX_RESPONSE_CHARS = 400")
    form.ok_button.click()
    review.sync(review.reviewer)

    # The author rewrites the lines two threads are about, and resubmits.
    lines = grader.read_text(encoding="utf-8").splitlines()
    lines[2] = "# (import moved below)"
    lines[4] = lines[4] + "  # renamed"
    grader.write_text("\n".join(lines) + "\n", encoding="utf-8")
    review.sync(review.author)
    assert review.resubmit() == 2
    review.sync(review.reviewer, review.author)

    panel.refresh()
    titles = [
        label.text()
        for label in panel.scroll.widget().findChildren(type(panel.header.title))
        if label.objectName() == "sectionTitle"
    ]
    assert titles[0] == "Outdated (the lines changed) · 2" and titles[1].startswith("Open")
    states = {c.view.body: (c.view.state, c.view.resolved) for c in panel.cards.values()}
    assert states["Check this import."] == ("outdated", False)
    assert states["Fine, but name it better."] == ("outdated", False)
    assert states["Explain this."][1] is True  # resolved: listed (collapsed) at the bottom
    assert states["Responses can be longer: some equations have **many** species."] == (
        "current",
        False,
    )  # its line did not change
    assert "revision 2" in panel.header.subtitle.text()
    review.screenshot(panel, "review-threads.png")

    # Read-only (no engine): the same list, actions disabled with the reason.
    viewer = ThreadsPanel()
    qtbot.addWidget(viewer)
    viewer.set_store(review.author.store)
    viewer.show_submission(review.submission_id)
    card = next(iter(viewer.cards.values()))
    assert not card.reply_button.isEnabled() and card.reply_button.toolTip() == READ_ONLY
