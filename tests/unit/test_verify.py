"""metadata_difference(): a downloaded wheel's METADATA against the lock's record."""

from __future__ import annotations

import hashlib

import pytest

from lockgen.core.models import MetadataRecord
from lockgen.lockfile.verify import metadata_difference

RECORDED = "app-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
SIBLING = "app-1.0-cp311-cp311-win_amd64.whl"


def _metadata(
    *requires_dist: str, requires_python: str | None = ">=3.8", summary: str = "An app"
) -> bytes:
    lines = [
        "Metadata-Version: 2.1",
        "Name: app",
        "Version: 1.0",
        f"Summary: {summary}",
    ]
    if requires_python is not None:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Requires-Dist: {r}" for r in requires_dist]
    return ("\n".join(lines) + "\n").encode()


def _record(
    data: bytes,
    *requires_dist: str,
    requires_python: str | None = ">=3.8",
    filename: str = RECORDED,
) -> MetadataRecord:
    return MetadataRecord(
        filename=filename,
        sha256=hashlib.sha256(data).hexdigest(),
        requires_dist=requires_dist,
        requires_python=requires_python,
    )


DEPS = ("lib>=1", 'winlib ; sys_platform == "win32"')
ORIGINAL = _metadata(*DEPS)
RECORD = _record(ORIGINAL, *DEPS)


def _difference(data: bytes, filename: str = RECORDED) -> str:
    message = metadata_difference(RECORD, filename, data)
    assert message is not None
    assert "\n" not in message
    assert message.startswith(
        f"METADATA in {filename} differs from what the lock was resolved with ("
    )
    return message


class TestAgreement:
    def test_identical_bytes(self) -> None:
        assert metadata_difference(RECORD, RECORDED, ORIGINAL) is None

    def test_identical_bytes_with_an_edited_record_disagree(self) -> None:
        """The record is lock text: editing its Requires-Dist (and keeping the
        sha256) must not pass as what the resolver used."""
        record = _record(ORIGINAL, "something-else", requires_python=">=3.99")
        message = metadata_difference(record, RECORDED, ORIGINAL)
        assert message is not None
        assert "- Requires-Dist: something-else" in message
        assert "+ Requires-Dist: lib>=1" in message
        assert "- Requires-Python: >=3.99" in message

    def test_sibling_wheel_with_same_dependencies(self) -> None:
        sibling = _metadata(*DEPS, summary="Built on Windows")
        assert sibling != ORIGINAL
        assert metadata_difference(RECORD, SIBLING, sibling) is None

    def test_sibling_with_lines_in_another_order(self) -> None:
        sibling = _metadata(*reversed(DEPS))
        assert metadata_difference(RECORD, SIBLING, sibling) is None

    @pytest.mark.parametrize(
        ("recorded", "actual"),
        [
            ("foo>=1", "foo >= 1"),
            ("foo>=1,<2", "foo <2, >=1"),
            ("foo[b,a]>=1", "foo[a, b] >=1"),
            ('foo ; python_version < "3.12"', "foo; python_version<'3.12'"),
        ],
    )
    def test_requirement_spelling_is_normalised(
        self, recorded: str, actual: str
    ) -> None:
        record = _record(_metadata(recorded), recorded)
        assert metadata_difference(record, SIBLING, _metadata(actual)) is None

    def test_project_name_spelling_is_normalised(self) -> None:
        record = _record(_metadata("foo-bar>=1"), "foo-bar>=1")
        assert metadata_difference(record, SIBLING, _metadata("Foo_Bar>=1")) is None
        assert metadata_difference(record, SIBLING, _metadata("FOO.bar >= 1")) is None

    def test_extra_in_a_marker_is_normalised(self) -> None:
        recorded = 'x ; extra == "my-extra"'
        record = _record(_metadata(recorded), recorded)
        actual = _metadata('x; extra == "My_Extra"')
        assert metadata_difference(record, SIBLING, actual) is None

    def test_requested_extra_spelling_is_normalised(self) -> None:
        record = _record(_metadata("foo[bar-baz]>=1"), "foo[bar-baz]>=1")
        actual = _metadata("foo[Bar_Baz]>=1")
        assert metadata_difference(record, SIBLING, actual) is None

    def test_requires_python_spelling_is_normalised(self) -> None:
        sibling = _metadata(*DEPS, requires_python=">= 3.8")
        assert metadata_difference(RECORD, SIBLING, sibling) is None

    def test_no_requires_python_on_either_side(self) -> None:
        record = _record(
            _metadata("lib", requires_python=None), "lib", requires_python=None
        )
        sibling = _metadata("lib", requires_python=None, summary="other")
        assert metadata_difference(record, SIBLING, sibling) is None


class TestDisagreement:
    def test_recorded_file_with_other_bytes_but_same_dependencies(self) -> None:
        changed = _metadata(*DEPS, summary="Tampered with")
        message = _difference(changed)
        assert message.endswith("(other fields differ)")

    def test_added_requirement(self) -> None:
        message = _difference(_metadata(*DEPS, "evil>=0"), SIBLING)
        assert message.endswith("(+ Requires-Dist: evil>=0)")

    def test_removed_requirement(self) -> None:
        message = _difference(_metadata("lib>=1"), SIBLING)
        assert message.endswith('(- Requires-Dist: winlib; sys_platform == "win32")')

    def test_changed_requirement_lists_both_sides(self) -> None:
        data = _metadata("lib>=2", DEPS[1])
        message = _difference(data)
        assert "(+ Requires-Dist: lib>=2; - Requires-Dist: lib>=1)" in message

    def test_several_lines_are_sorted_added_first(self) -> None:
        record = _record(_metadata("mid", "beta"), "mid", "beta")
        message = metadata_difference(record, SIBLING, _metadata("zeta", "alpha"))
        assert message is not None
        detail = message.partition("(")[2].removesuffix(")")
        assert detail.split("; ") == [
            "+ Requires-Dist: alpha",
            "+ Requires-Dist: zeta",
            "- Requires-Dist: beta",
            "- Requires-Dist: mid",
        ]

    def test_requires_python_changed(self) -> None:
        data = _metadata(*DEPS, requires_python=">=3.9")
        message = _difference(data, SIBLING)
        assert message.endswith("(- Requires-Python: >=3.8; + Requires-Python: >=3.9)")

    def test_requires_python_added(self) -> None:
        record = _record(
            _metadata("lib", requires_python=None), "lib", requires_python=None
        )
        data = _metadata("lib", requires_python=">=3.12")
        message = metadata_difference(record, SIBLING, data)
        assert message is not None
        assert "- Requires-Python: (none); + Requires-Python: >=3.12" in message

    def test_requires_python_removed(self) -> None:
        message = _difference(_metadata(*DEPS, requires_python=None), SIBLING)
        assert "- Requires-Python: >=3.8; + Requires-Python: (none)" in message

    def test_dependency_change_and_python_change_together(self) -> None:
        data = _metadata("lib>=1", requires_python=">=3.10")
        message = _difference(data, SIBLING)
        assert "- Requires-Dist: winlib" in message
        assert "+ Requires-Python: >=3.10" in message

    def test_empty_metadata(self) -> None:
        message = _difference(b"", SIBLING)
        assert "- Requires-Dist: lib>=1" in message
        assert "+ Requires-Python: (none)" in message


class TestUnparsableLines:
    def test_invalid_requirement_lines_do_not_crash(self) -> None:
        record = _record(_metadata("lib>=1"), "lib>=1")
        data = _metadata("lib>=1", "not a ((( requirement")
        message = metadata_difference(record, SIBLING, data)
        assert message is not None
        assert "+ Requires-Dist: not a ((( requirement" in message

    def test_same_invalid_line_on_both_sides_agrees(self) -> None:
        bad = "broken >>> 1"
        record = _record(_metadata(bad), bad)
        assert metadata_difference(record, SIBLING, _metadata(f"  {bad}")) is None

    def test_invalid_line_in_the_record(self) -> None:
        record = _record(_metadata("x"), "@@@ nonsense")
        message = metadata_difference(record, SIBLING, _metadata("lib"))
        assert message is not None
        assert "- Requires-Dist: @@@ nonsense" in message

    def test_invalid_requires_python_is_compared_as_text(self) -> None:
        record = _record(
            _metadata("lib", requires_python="three"), "lib", requires_python="three"
        )
        same = _metadata("lib", requires_python="three", summary="other")
        assert metadata_difference(record, SIBLING, same) is None
        other = _metadata("lib", requires_python="four")
        message = metadata_difference(record, SIBLING, other)
        assert message is not None
        assert "- Requires-Python: three; + Requires-Python: four" in message

    def test_binary_garbage_does_not_crash(self) -> None:
        message = metadata_difference(RECORD, SIBLING, b"\xff\xfe\x00\x01garbage\n")
        assert message is not None
