"""Each cleaning rule on the hand-made cohort of conftest.tiny_raw."""
import pandas as pd
import pytest

from helpers.analysis import clean
from helpers.data import load
from helpers.data.errors import InputError


def _cleaned(raw, cohort="tiny"):
    return clean.clean(load.load_inputs(raw, cohort), pooled=cohort == "all")


def test_only_consenting_finished_responses_are_kept(tiny_raw):
    ids = set(_cleaned(tiny_raw).participants["participant_id"])
    assert ids == {"A", "B", "C"}


def test_duplicate_submission_keeps_latest(tiny_raw):
    part = _cleaned(tiny_raw).participants.set_index("participant_id")
    assert part.loc["C", "role_group"] == "clinician"  # the later row says GP, the earlier Librarian
    assert part.loc["C", "q_useful"] == 2


def test_finished_response_is_not_replaced_by_later_unfinished_one():
    q = pd.DataFrame({
        "_row": [2, 3], "participant_id": ["X", "X"], "consent": ["yes", "yes"], "finished": ["yes", "no"],
        "submitted_at": ["2021-01-01T00:00:00Z", "2021-02-01T00:00:00Z"], "role": ["GP", "GP"],
    })
    q, _ = clean.drop_without_consent(q)
    q, _ = clean.drop_unfinished(q)
    kept, dropped = clean.keep_latest_submission(q)
    assert kept["_row"].tolist() == [2] and dropped.empty


def test_equal_timestamps_keep_the_lower_row():
    q = pd.DataFrame({"_row": [2, 3], "participant_id": ["X", "X"],
                      "submitted_at": ["2021-01-01T00:00:00Z"] * 2})
    kept, dropped = clean.keep_latest_submission(q)
    assert kept["_row"].tolist() == [3] and dropped["_row"].tolist() == [2]


def test_booleans_accept_yes_no_true_false_one_zero_any_case():
    parsed = load.parse_bool(pd.Series(["yes", "No", "TRUE", "false", "1", "0", "maybe"]))
    assert parsed.tolist()[:6] == [True, False, True, False, True, False]
    assert pd.isna(parsed.iloc[6])


def test_timestamps_with_and_without_zone_compare_in_utc():
    stamps = load.parse_timestamp(pd.Series(["2021-01-01T10:00:00+01:00", "2021-01-01T09:30:00"]))
    assert stamps.iloc[0] < stamps.iloc[1]


def test_role_matching_ignores_case_and_spacing(tiny_raw):
    part = _cleaned(tiny_raw).participants.set_index("participant_id")
    assert part.loc["A", "role"] == " gp " and part.loc["A", "role_group"] == "clinician"
    assert part.loc["B", "role_group"] == "management"


def test_cleaning_log_names_every_dropped_row_and_reason(tiny_raw):
    log = _cleaned(tiny_raw).cleaning_log
    rows = {(r.row, r.participant_id, r.reason) for r in log.itertuples()}
    assert rows == {
        (6, "D", clean.REASON_NO_CONSENT),
        (7, "E", clean.REASON_NOT_FINISHED),
        (5, "C", clean.REASON_DUPLICATE),
        (7, "D", clean.REASON_EXCLUDED_PARTICIPANT),  # coded_segments.csv row 7
    }
    counts = clean.log_counts(log).set_index("reason")["rows_dropped"]
    assert counts.to_dict() == {clean.REASON_NO_CONSENT: 1, clean.REASON_NOT_FINISHED: 1,
                                clean.REASON_DUPLICATE: 1, clean.REASON_EXCLUDED_PARTICIPANT: 1}


def test_unmapped_role_names_file_row_and_value(tiny_raw):
    path = tiny_raw / "tiny" / "questionnaire.csv"
    path.write_text(path.read_text().replace("head of  IM&T", "Chief Wizard"))
    with pytest.raises(InputError) as err:
        _cleaned(tiny_raw)
    message = str(err.value)
    assert "questionnaire.csv, row 3, column 'role': value 'Chief Wizard'" in message
    assert "role_map.csv" in message


def test_pooled_run_keeps_same_ids_of_different_cohorts_apart(tiny_raw):
    import shutil
    shutil.copytree(tiny_raw / "tiny", tiny_raw / "tiny2")
    cleaned = _cleaned(tiny_raw, "all")
    assert len(cleaned.participants) == 6
    assert {"tiny/A", "tiny2/A"} <= set(cleaned.participants["participant_id"])
    assert cleaned.segments["segment_id"].nunique() == 6  # S1..S3 in each cohort


def test_codebooks_that_disagree_across_cohorts_are_refused(tiny_raw):
    import shutil
    shutil.copytree(tiny_raw / "tiny", tiny_raw / "tiny2")
    book = tiny_raw / "tiny2" / "codebook.csv"
    book.write_text(book.read_text().replace("Alpha,Theme one", "Alpha,Theme two"))
    with pytest.raises(InputError, match="Alpha"):
        _cleaned(tiny_raw, "all")


def test_timestamps_mixing_zones_keep_each_their_own_offset():
    # pandas' vectorised ISO parser once gave the naive value the -05:30 of the value before it.
    stamps = load.parse_timestamp(pd.Series(["2021-03-04T09:30:00-05:30", "2021-03-04 09:30:00.5",
                                             "2021-03-04T09:30:00Z", "2021-03-04"]))
    assert [s.isoformat() for s in stamps] == ["2021-03-04T15:00:00+00:00", "2021-03-04T09:30:00.500000+00:00",
                                               "2021-03-04T09:30:00+00:00", "2021-03-04T00:00:00+00:00"]


def test_date_beyond_what_a_timestamp_holds_is_refused_not_a_crash():
    stamps = load.parse_timestamp(pd.Series(["9999-12-31", "2021-01-01"]))
    assert pd.isna(stamps.iloc[0]) and stamps.iloc[1].year == 2021
