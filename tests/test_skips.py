"""One rule for a missing prerequisite: fail, unless the developer asks for a partial run."""

from __future__ import annotations

import pytest
from conftest import skip_or_fail


@pytest.mark.parametrize(
    ("env", "outcome"),
    [
        pytest.param({}, pytest.fail.Exception, id="default-fails"),
        pytest.param({"ALLOW_SKIPS": "1"}, pytest.skip.Exception, id="partial-run-skips"),
        pytest.param({"REQUIRE_ALL_TESTS": "1"}, pytest.fail.Exception, id="ci-fails"),
        pytest.param({"REQUIRE_ALL_TESTS": "1", "ALLOW_SKIPS": "1"}, pytest.fail.Exception,
                     id="ci-wins-over-partial"),
        pytest.param({"ALLOW_SKIPS": "0"}, pytest.fail.Exception, id="only-1-allows"),
    ],
)  # fmt: skip
def test_skip_or_fail(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], outcome: type[BaseException]
) -> None:
    """A green run never hides a test that did not run, unless skipping was asked for."""
    for name in ("ALLOW_SKIPS", "REQUIRE_ALL_TESTS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(outcome, match="shared CRDs"):
        skip_or_fail("shared CRDs not found")
