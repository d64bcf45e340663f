"""The bundled synthetic cohorts: deterministic, and what the repository ships."""
from helpers import paths, synthetic


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
