"""The bundled synthetic cohorts: deterministic, and what the repository ships."""
from pathlib import Path

from helpers.data import paths
from helpers.tools import synthetic


def test_generator_is_deterministic():
    assert synthetic.planned_files() == synthetic.planned_files()


def test_bundled_raw_files_are_what_the_generator_writes():
    for rel, data in synthetic.planned_files().items():
        assert (paths.RAW_DIR / rel).read_bytes() == data, f"data/raw/{rel} differs: run make synthetic"


def test_rerun_changes_no_byte(tmp_path):
    synthetic.write(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    report = synthetic.write(tmp_path)
    assert all(line.startswith("unchanged") for line in report)
    assert before == {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}


def test_edited_raw_file_is_not_overwritten_without_force(tmp_path):
    synthetic.write(tmp_path)
    edited = tmp_path / "cohort1" / "codebook.csv"
    edited.write_text("edited by an analyst\n")
    try:
        synthetic.write(tmp_path)
    except SystemExit as exc:
        assert "--force" in str(exc)
    else:
        raise AssertionError("an edited raw file was overwritten")
    assert edited.read_text() == "edited by an analyst\n"
    synthetic.write(tmp_path, force=True)
    assert edited.read_text() != "edited by an analyst\n"


def test_raw_files_hold_the_mess_cleaning_exists_for():
    text = (paths.RAW_DIR / "cohort1" / "questionnaire.csv").read_text()
    assert ",no," in text.lower() and " GP " in text
    rows = text.splitlines()[1:]
    ids = [r.split(",")[0] for r in rows]
    assert len(ids) > len(set(ids))  # duplicate submissions


# --- scaled cohorts for benchmarking ------------------------------------------------------

def _clean_scaled(raw, size):
    from helpers.analysis import clean, themes
    from helpers.data import load

    cleaned = clean.clean(load.load_inputs(raw, f"scale{size}"), pooled=False)
    return cleaned, themes.references(cleaned)


def test_scaled_cohort_is_deterministic():
    assert synthetic.scaled_files(200, "scale200") == synthetic.scaled_files(200, "scale200")


def test_scaled_cohort_has_ten_references_per_participant_after_cleaning(tmp_path):
    synthetic.write_scaled(tmp_path, 2000)
    cleaned, refs = _clean_scaled(tmp_path, 2000)
    assert len(cleaned.participants) == 2000
    assert len(refs) == 20_000
    per_participant = refs.groupby("participant_id").size()
    assert len(per_participant) == 2000 and (per_participant == 10).all()


def test_scaled_cohort_holds_every_kind_of_mess_and_source(tmp_path):
    from helpers.analysis import clean, participants, themes

    synthetic.write_scaled(tmp_path, 200)
    cleaned, refs = _clean_scaled(tmp_path, 200)
    reasons = cleaned.cleaning_log["reason"].value_counts()
    for reason in (clean.REASON_NO_CONSENT, clean.REASON_NOT_FINISHED, clean.REASON_DUPLICATE,
                   clean.REASON_EXCLUDED_PARTICIPANT):
        assert reasons.get(reason, 0) > 0, reason
    assert set(cleaned.participants["role_group"]) == {"clinician", "management", "data science", "other"}
    assert set(refs["source_type"]) == {"interview", "focus_group", "questionnaire", "dissertation"}
    assert cleaned.participants["q_network_value"].notna().any()
    assert (refs.groupby("segment_id")["code"].nunique() == 2).any()  # co-coded segments
    assert (refs["text"] != "").mean() > 0.9
    coding = participants.coding_table(cleaned).set_index("source_type")
    assert coding.loc["interview", "double_coded"] > 0 and coding.loc["dissertation", "double_coded"] > 0
    assert len(themes.agreement_table(cleaned)) > 0
    assert len(themes.saturation_table(refs, cleaned)) == 20  # one row per interview


def test_scale_command_writes_the_contract_files_and_keeps_an_existing_marker(tmp_path):
    synthetic.write(tmp_path)
    marker = (tmp_path / "SYNTHETIC").read_bytes()
    assert synthetic.main(["--out", str(tmp_path), "--scale", "200", "--cohort", "bench"]) == 0
    for name in ("questionnaire.csv", "sources.csv", "coded_segments.csv", "codebook.csv"):
        assert (tmp_path / "bench" / name).is_file()
    assert (tmp_path / "SYNTHETIC").read_bytes() == marker
    assert synthetic.planned_files()[Path("role_map.csv")] == (tmp_path / "role_map.csv").read_bytes()
