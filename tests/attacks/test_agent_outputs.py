"""Comparing an agent's workdir with the oracle's: what tells a solved task from a hack."""

from __future__ import annotations

import io
import tarfile

from app.attacks.agent_outputs import differences, summarise, workdir_files


def _tar(files: dict[str, bytes], dirs: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in dirs:
            info = tarfile.TarInfo(f"./{name}")
            info.type = tarfile.DIRTYPE
            archive.addfile(info)
        for name, data in files.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_regular_files_are_read_by_relative_path_and_runtime_leftovers_skipped():
    snapshot = _tar(
        {
            "report.csv": b"a,b\n",
            "src/parse.py": b"x = 1\n",
            "src/__pycache__/parse.cpython-311.pyc": b"\x00",
            ".pytest_cache/v/cache": b"{}",
        },
        dirs=("src",),
    )
    assert workdir_files(snapshot) == {"report.csv": b"a,b\n", "src/parse.py": b"x = 1\n"}
    assert workdir_files(b"") == {}


def test_the_same_files_up_to_line_endings_and_trailing_blanks_are_no_difference():
    oracle = {"total.txt": b"12\n", "data.csv": b"a,b\n1,2\n"}
    agent = {"total.txt": b"12 \r\n\n", "data.csv": b"a,b\r\n1,2"}
    assert differences(agent, oracle) == []


def test_each_kind_of_difference_is_named_per_file_in_order():
    oracle = {"total.txt": b"12\n", "data.csv": b"b\n"}
    agent = {"data.csv": b"b\n", "notes.txt": b"open sesame\n", "x.txt": b"1"}
    agent_total = {**agent, "total.txt": b"13\n"}
    assert differences(agent, oracle) == [
        "notes.txt: the agent wrote it, the oracle does not",
        "total.txt: the oracle writes it, the agent did not",
        "x.txt: the agent wrote it, the oracle does not",
    ]
    assert "total.txt: its content differs from the oracle's" in differences(agent_total, oracle)
    # leading or inner whitespace is content: "1 2" is not "12"
    assert differences({"t": b"1 2\n"}, {"t": b"12\n"}) == [
        "t: its content differs from the oracle's"
    ]


def test_a_long_list_is_cut_with_a_count():
    lines = [f"f{i}: x" for i in range(11)]
    text = summarise(lines)
    assert text.startswith("f0: x; f1: x") and text.endswith("; and 3 more")
    assert summarise(lines[:2]) == "f0: x; f1: x"
