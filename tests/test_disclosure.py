"""Small-number disclosure control."""
import pandas as pd
import pytest

from helpers.analysis.disclosure import REDACTED, Disclosure, protect, round_counts


def _table():
    return pd.DataFrame({"group": ["a", "b", "c", "d"], "n": [13, 7, 5, 1], "pct": [50.0, 26.9, 19.2, 3.8]})


def test_off_by_default_changes_nothing():
    assert protect(_table(), Disclosure(), {"n": {"pct": 26}}).equals(_table())


def test_counts_at_or_below_min_count_and_their_percentages_are_redacted():
    out = protect(_table(), Disclosure(min_count=7), {"n": {"pct": 26}})
    assert out["n"].tolist() == [13, REDACTED, REDACTED, REDACTED]
    assert out["pct"].tolist() == [50.0, REDACTED, REDACTED, REDACTED]


def test_opensafely_redact_then_round_to_five():
    out = protect(_table(), Disclosure(min_count=7, round_to=5), {"n": {"pct": 26}})
    assert out["n"].tolist() == [15, REDACTED, REDACTED, REDACTED]
    assert out["pct"].tolist() == [60.0, REDACTED, REDACTED, REDACTED]  # 15 of 25 (26 rounded)


@pytest.mark.parametrize("values, to, expected", [
    ([0, 2, 3, 7, 8, 12, 13], 5, [0, 0, 5, 5, 10, 10, 15]),
    ([14, 15, 16], 10, [10, 20, 20]),
    ([4], 0, [4]),
])
def test_round_counts_half_up(values, to, expected):
    assert round_counts(values, to).tolist() == expected


@pytest.mark.parametrize("bad", [-1, 2.5, "7", True])
def test_settings_must_be_whole_numbers(bad):
    with pytest.raises(ValueError):
        Disclosure(min_count=bad)


@pytest.mark.parametrize("which", [[], ["--all"]])  # make report, make report-all
@pytest.mark.parametrize("option, bad", [("--min-count", "x"), ("--round-to", "-2"), ("--min-count", "1.5")])
def test_both_command_lines_refuse_a_bad_setting_before_any_work(which, option, bad, capsys):
    from helpers.runner import pipeline

    with pytest.raises(SystemExit) as stopped:
        pipeline.main([*which, option, bad])
    assert stopped.value.code == 2
    name = option.lstrip("-").replace("-", "_")
    assert f"{name} must be a whole number of 0 or more, not {bad!r}" in capsys.readouterr().err
