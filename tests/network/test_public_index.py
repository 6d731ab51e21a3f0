"""Opt-in: lock the examples against pip's default index (``pytest -m network``).

These talk to the real public index, so they never run in CI. They check what the
local server cannot: real project pages, real wheels, and the real file host's range
support. Locks are validated with packaging and our JSON Schema.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from lockgen.cli.main import main
from tests.support.lockcheck import check_lock

pytestmark = pytest.mark.network

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.mark.parametrize(
    "example", sorted(p.name for p in EXAMPLES.glob("*.in")), ids=lambda n: n
)
def test_lock_example(
    example: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the default index: pip's own built-in one (conftest hides the machine's config)
    monkeypatch.chdir(EXAMPLES)
    out = tmp_path / "pylock.toml"
    result = CliRunner().invoke(main, ["lock", example, "-o", str(out), "-v"])
    assert result.exit_code == 0, result.output
    lock = check_lock(out.read_text())
    assert len(lock["packages"]) >= 3
    assert "metadata from the whole wheel" not in result.stderr, result.stderr
