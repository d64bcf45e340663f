"""Agreement beyond kappa: AC1, PABAK, kappa and alpha with their 95% intervals, checked
against irrCAC (the reference implementation of Gwet's estimators) on the bundled cohorts,
the prevalence paradox by the numbers, and the coders' list of disagreements."""
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from helpers.analysis import agreement, clean, coefficients, themes
from helpers.analysis.disclosure import REDACTED, Disclosure
from helpers.data import load, paths, plan

REQUIREMENTS = Path(__file__).parent / "fixtures" / "irrcac-requirements.txt"


@pytest.fixture(scope="module")
def irrcac(tmp_path_factory):
    """irrCAC's CAC class, installed (hash checked, no dependencies) into a folder of this test."""
    target = tmp_path_factory.mktemp("irrcac")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           "--no-deps", "--only-binary", ":all:", "--require-hashes", "--target", str(target),
                           "-r", str(REQUIREMENTS)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(target))
    try:
        from irrCAC.raw import CAC
    finally:
        sys.path.remove(str(target))
    return CAC


@pytest.fixture(scope="module")
def cleaned():
    return clean.clean(load.load_inputs(paths.RAW_DIR, "cohort1"), pooled=False)


def blocks(cleaned):
    """Every (coders, code, decisions) the agreement table is built from: each pair's and all coders'."""
    matrix, _ = agreement.decisions(cleaned.segments)
    coders = [c for c in matrix.columns if c != "source_id"]
    for pair in (["AA", "AS"], ["AA", "RB"], coders):
        block = matrix[matrix[pair].notna().all(axis=1)] if len(pair) == 2 else matrix
        for code in block.index.get_level_values("code").unique():
            decisions = block.xs(code, level="code")[pair]
            if decisions.fillna(0).to_numpy().max() > 0:  # codes someone applied, as the table keeps
                yield " & ".join(pair) if len(pair) == 2 else "all coders", code, decisions


OURS = {"gwet": coefficients.gwet_ac1, "bp": coefficients.pabak, "krippendorff": coefficients.krippendorff_alpha,
        "conger": coefficients.cohen_kappa}  # Conger's kappa of two coders is Cohen's


@pytest.fixture(scope="module")
def references(cleaned, irrcac):
    """{(coders, code, method): (value, low, high)} as irrCAC computes them, with the decisions."""
    found = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for coders, code, decisions in blocks(cleaned):
            calculator = irrcac(decisions.copy(), categories=[0.0, 1.0], digits=12)
            for method in OURS if coders != "all coders" else ("gwet", "bp", "krippendorff"):
                est = getattr(calculator, method)()["est"]
                low, high = est["confidence_interval"]
                found[(coders, code, method)] = (decisions, (float(est["coefficient_value"]), float(low), float(high)))
    return found


def test_every_coefficient_and_interval_matches_irrcac_on_cohort1(references):
    for (coders, code, method), (decisions, theirs) in references.items():
        mine = OURS[method](decisions.to_numpy(dtype=float))
        assert (mine.value, mine.low, mine.high) == pytest.approx(theirs, abs=1e-9), (coders, code, method)
    assert len(references) > 150  # every code of both pairs and of all coders, four or three coefficients each


def test_the_agreement_table_prints_irrcacs_values(cleaned, references):
    table = agreement.agreement_table(cleaned.segments, cleaned.codebook).set_index(["coders", "code"])
    for coders, code, _ in blocks(cleaned):
        row = table.loc[(coders, code)]
        for method, column in (("gwet", "gwet_ac1"), ("bp", "pabak"), ("krippendorff", "krippendorff_alpha")):
            value, low, high = references[(coders, code, method)][1]
            assert row[[column, f"{column}_low", f"{column}_high"]].tolist() == pytest.approx(
                [round(value, 3), round(low, 3), round(high, 3)], abs=0.0011), (coders, code, column)


def test_the_prevalence_paradox_is_shown_by_the_numbers(cleaned):
    table = agreement.agreement_table(cleaned.segments, cleaned.codebook).set_index(["coders", "code"])
    board = table.loc[("AA & AS", "Board-level digital literacy")]
    # One disagreement in 33 decisions on a code applied once: kappa 0, AC1 and PABAK near raw agreement.
    assert board["agreement_pct"] == 97.0 and board["prevalence_pct"] == 1.5
    assert board["cohen_kappa"] == 0.0 and board["gwet_ac1"] == 0.969 and board["pabak"] == 0.939
    commitment = table.loc[("AA & AS", "Commitment to the profession")]
    assert (commitment["cohen_kappa"], commitment["cohen_kappa_low"], commitment["cohen_kappa_high"]) == (
        0.476, -0.156, 1.0)


def test_pabak_is_twice_raw_agreement_minus_one():
    decisions = np.array([[1, 1], [0, 0], [0, 1], [0, 0], [1, 1], [0, 0], [0, 0], [1, 0]], dtype=float)
    assert coefficients.pabak(decisions).value == pytest.approx(2 * 6 / 8 - 1)


def test_a_coefficient_without_variation_is_undefined():
    assert np.isnan(coefficients.cohen_kappa(np.zeros((10, 2))).value)
    assert np.isnan(coefficients.krippendorff_alpha(np.zeros((10, 2))).value)


def test_disagreement_list_holds_every_split_decision(cleaned):
    listed = agreement.disagreements(cleaned.segments, cleaned.codebook)
    table = agreement.agreement_table(cleaned.segments, cleaned.codebook, cells=True)
    per_code = table[(table["coders"] == "all coders") & (table["code"] != "(all codes pooled)")]
    assert len(listed) == int((per_code["units"] - per_code["_agreeing"]).sum()) > 0
    row = listed.iloc[0]
    assert set(row["coders"].split(" & ")) == {row["applied_by"], row["not_applied_by"]}
    assert listed.columns.tolist() == agreement.DISAGREEMENT_COLUMNS


def test_disagreement_list_goes_to_the_processed_folder_only():
    assert plan.DISAGREEMENTS.tree == plan.PROCESSED
    assert plan.DISAGREEMENTS not in plan.REPORT.reads and plan.DISAGREEMENTS not in plan.WRITE_MANUSCRIPT.reads
    assert plan.DISAGREEMENTS in plan.TALLIES.writes


def test_new_coefficients_are_redacted_with_the_rest_under_disclosure_control(cleaned):
    table = themes.agreement_table(cleaned, Disclosure(min_count=7))
    few = table[table["units"] == REDACTED]
    assert len(few) == 0 or (few[["gwet_ac1", "pabak_low", "prevalence_pct"]] == REDACTED).all().all()
    rare = table[(table["code"] == "Board-level digital literacy") & (table["coders"] == "AA & AS")].iloc[0]
    assert rare["gwet_ac1"] == REDACTED and rare["prevalence_pct"] == REDACTED  # one "yes" decision
