""" "Assign reviewer…": the platform's reviewers for one submission, those vetted in the bounty's
domain first (marked), the others after, and the submission's author greyed out with the reason
(nobody reviews their own submission; the platform refuses it too)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.sync import lab
from app.ui.lab.calls import LabCalls, error_label, words
from app.ui.widgets import button_row, push_button

USER_ID = Qt.ItemDataRole.UserRole


class AssignDialog(QDialog):
    assigned = Signal(dict)  # the submission with its reviewers after the change
    refused = Signal(object)
    loaded = Signal()

    def __init__(
        self, calls: LabCalls, bounty: dict, submission: dict, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._calls = calls
        self.bounty, self.submission = bounty, submission
        self.setWindowTitle("Assign reviewer")
        self.resize(560, 420)
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"Who reviews submission <b>{submission['id']}</b> by "
            f"{(submission.get('author') or {}).get('name', '?')}? Reviewers vetted in "
            f"<b>{bounty['domain']}</b> are listed first (✓)."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.people = QListWidget()
        self.people.setWordWrap(True)
        self.people.setSpacing(2)
        self.people.itemDoubleClicked.connect(lambda _item: self.assign_selected())
        layout.addWidget(self.people, 1)
        self.message = error_label()
        layout.addWidget(self.message)
        self.assign_button = push_button("Assign", self.assign_selected, primary=True)
        self.assign_button.setEnabled(False)
        layout.addLayout(button_row(self.assign_button, push_button("Cancel", self.reject)))
        self.people.currentItemChanged.connect(
            lambda item, _old: self.assign_button.setEnabled(bool(item and item.data(USER_ID)))
        )
        calls.run(lab.list_users, self._show_people, self._refuse)

    def _show_people(self, users: list[dict]) -> None:
        domain = self.bounty["domain"]
        assigned = {r["id"] for r in self.submission.get("reviewers") or []}
        for pick in lab.reviewer_candidates(users, domain, self.submission):
            user = pick.user
            item = QListWidgetItem(self._describe(pick, domain, user["id"] in assigned))
            if pick.excluded:
                item.setFlags(Qt.ItemFlag.NoItemFlags)  # shown with its reason, not pickable
                item.setToolTip(pick.excluded)
            else:
                item.setData(USER_ID, user["id"])
            self.people.addItem(item)
        if not self.people.count():
            self.message.setText("Nobody on this platform can review yet.")
            self.message.show()
        self.loaded.emit()

    @staticmethod
    def _describe(pick: lab.Candidate, domain: str, assigned: bool) -> str:
        user = pick.user
        name = f"{user['name']} ({user['role']})"
        if pick.excluded:
            return f"✗  {name}: excluded, {pick.excluded}"
        domains = ", ".join(user.get("domains") or []) or "no domain yet"
        mark = "✓  " if pick.matches else "     "
        fit = f"vetted in {domain}" if pick.matches else f"not vetted in {domain} ({domains})"
        return f"{mark}{name}: {fit}" + ("  · already assigned" if assigned else "")

    def assign_selected(self) -> None:
        item = self.people.currentItem()
        if item is not None and item.data(USER_ID):
            self.assign(item.data(USER_ID))

    def assign(self, user_id: str) -> None:
        """Assign `user_id`; the lab picked them from the marked list, so another domain is a
        deliberate choice (the CLI's --any-domain). The author is refused."""
        self.message.hide()
        self.assign_button.setEnabled(False)
        sid = self.submission["id"]
        self._calls.run(
            lambda client: lab.assign(client, sid, user_id, remove=False, any_domain=True),
            self._done,
            self._refuse,
        )

    def _done(self, result: tuple[dict, dict, str]) -> None:
        submission, _reviewer, _verb = result
        self.assigned.emit(submission)
        self.accept()

    def _refuse(self, exc: BaseException) -> None:
        self.assign_button.setEnabled(self.people.currentItem() is not None)
        self.message.setText(words(exc))
        self.message.show()
        self.refused.emit(exc)
