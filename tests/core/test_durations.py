"""Go-style durations, parsed once for the engine's flags and the Istio translation."""

import pytest

from seldon_graph.durations import duration_seconds


def test_units_and_compound_durations():
    assert duration_seconds("15s") == 15 and duration_seconds("500ms") == 0.5 and duration_seconds("1.5m") == 90
    assert duration_seconds("1h") == 3600 and duration_seconds("1m30s") == 90 and duration_seconds(" 2s ") == 2
    assert duration_seconds("250us") == pytest.approx(0.00025)


def test_a_bare_number_needs_its_unit_named():
    assert duration_seconds("2", bare_unit="s") == 2 and duration_seconds("0.5", bare_unit="s") == 0.5
    assert duration_seconds("2", bare_unit="ms") == 0.002
    with pytest.raises(ValueError, match="not a duration: '2'"):
        duration_seconds("2")


@pytest.mark.parametrize("text", ["", "s", "5x", "1s2", "-1s", "1 s", "ten s"])
def test_malformed_durations_are_refused(text):
    with pytest.raises(ValueError, match="not a duration"):
        duration_seconds(text, bare_unit="s")
