"""Applying a reviewer's suggested replacement to the lines it was written on."""

from __future__ import annotations

import pytest

from app.editor.annotations import text_with_suggestion

TEXT = "def grade(task, answer):\n    return answer == task.answer\n\n# end\n"


def test_one_line_is_replaced_and_the_rest_kept_byte_for_byte():
    new = text_with_suggestion(TEXT, 2, 2, "    return answer.strip() == task.answer\n")
    assert new == TEXT.replace("return answer ==", "return answer.strip() ==")


def test_a_range_becomes_several_lines_and_windows_endings_stay():
    text = TEXT.replace("\n", "\r\n")
    new = text_with_suggestion(text, 1, 2, "def grade(task, answer):\n    return 1.0")
    assert new == "def grade(task, answer):\r\n    return 1.0\r\n\r\n# end\r\n"


def test_the_last_line_without_a_newline_gets_none_and_an_empty_suggestion_deletes():
    assert text_with_suggestion("a\nb", 2, 2, "c\n") == "a\nc"
    assert text_with_suggestion(TEXT, 3, 4, "") == TEXT.split("\n\n")[0] + "\n"


@pytest.mark.parametrize(("start", "end"), [(0, 1), (9, 9), (3, 2)])
def test_lines_outside_the_file_are_refused(start, end):
    with pytest.raises(ValueError, match="not in this file"):
        text_with_suggestion(TEXT, start, end, "x")
