"""The progress displays, driven with a list as their output."""

from __future__ import annotations

from lockgen.cli.progress import HydrateDisplay, LockDisplay, format_size


def test_format_size() -> None:
    assert [format_size(n) for n in (0, 1023, 1024, 5 * 1024**2, 3 * 1024**4)] == [
        "0 B",
        "1023 B",
        "1.0 KiB",
        "5.0 MiB",
        "3072.0 GiB",
    ]


def test_lock_display_live_line_is_redrawn_then_erased() -> None:
    out: list[str] = []
    display = LockDisplay(out.append, live=True, verbose=False)
    display.pinned("a", "1.0", 3)
    display.pinned("b", "2.0", 5)
    display.detail("not shown unless verbose")
    display.finish()
    assert out == [
        "\rResolving: 1 packages pinned, 3 requests\x1b[K",
        "\rResolving: 2 packages pinned, 5 requests\x1b[K",
        "\r\x1b[K",
    ]


def test_lock_display_verbose_prints_plain_lines() -> None:
    out: list[str] = []
    display = LockDisplay(out.append, live=True, verbose=True)
    display.pinned("a", "1.0", 3)
    display.detail("a-1.0-py3-none-any.whl: metadata by range requests")
    display.finish()
    assert out == [
        "pinned a 1.0\n",
        "a-1.0-py3-none-any.whl: metadata by range requests\n",
    ]


def test_displays_off_a_terminal_show_nothing() -> None:
    out: list[str] = []
    lock = LockDisplay(out.append, live=False, verbose=False)
    lock.pinned("a", "1.0", 1)
    lock.finish()
    hydrate = HydrateDisplay(out.append, live=False)
    hydrate.start(1, 10)
    hydrate.advance(10)
    hydrate.file_done("a.whl", "fetched")
    hydrate.finish()
    assert out == []


def test_hydrate_display_counts_files_and_bytes() -> None:
    out: list[str] = []
    display = HydrateDisplay(out.append, live=True)
    display.start(2, 3 * 1024)
    display.advance(1024)
    display.file_done("a.whl", "fetched")
    display.advance(2048)
    display.file_done("b.whl", "cached")
    assert out[-1].startswith("\rHydrating: 2/2 files, 3.0 KiB/3.0 KiB, ")
    display.finish()
    assert out[-1] == "\r\x1b[K"


def test_verbose_lines_show_control_characters_as_escapes() -> None:
    out: list[str] = []
    display = LockDisplay(out.append, live=False, verbose=True)
    display.pinned("a", "1.0\x1b]0;title\x07", 1)
    display.detail("a-1.0-py3-none-any.\x1b[2J\r\x9b.whl: metadata from PEP 658 file")
    assert out == [
        "pinned a 1.0\\x1b]0;title\\x07\n",
        "a-1.0-py3-none-any.\\x1b[2J\\x0d\\x9b.whl: metadata from PEP 658 file\n",
    ]
