"""The codebook and the joint display as published, and the rules every quote and small group
follow: each quote shown once, no role group under SMALL_N named, ties named as ties, no
pseudonym of a person who declined. In process, on the bundled cohorts pooled ("all")."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

from helpers.analysis import clean, joint, themes
from helpers.analysis.disclosure import REDACTED, SMALL_N, Disclosure
from helpers.data import load, paths
from helpers.data.contract import REASON_NO_CONSENT
from helpers.importers import refi_qda
from helpers.report import coreq, qdc, readings

SCHEMA = Path(__file__).parent / "fixtures" / "refi_qda" / "Codebook.xsd"
CONTROL = Disclosure(min_count=7, round_to=5)


@pytest.fixture(scope="module")
def pooled():
    raw = paths.RAW_DIR
    return clean.prepare(load.load_inputs(raw, "all"), raw, pooled=True)


def published(cleaned, rules=Disclosure()):
    """quotes, codebook and joint display as notebook 03 writes them."""
    refs = themes.references(cleaned)
    quotes = themes.illustrative_quotes(refs, cleaned, [], rules)
    book = themes.codebook_table(refs, cleaned, [], rules, taken=quotes["quote"])
    shown = list(quotes["quote"]) + list(book["exemplar"])
    candidates = themes.illustrative_quotes(refs, cleaned, [], rules, per_theme=1, taken=shown)
    return quotes, book, joint.joint_display_table(refs, cleaned, candidates, rules)


def shown_quotes(quotes, book, display) -> list[str]:
    return [q for q in list(quotes["quote"]) + list(book["exemplar"]) + list(display["quote"]) if str(q).strip()]


# --- the codebook -------------------------------------------------------------------------------

def test_codebook_lists_every_code_with_its_definition_and_the_themes_tables_counts(pooled):
    _, book, _ = published(pooled)
    tallies = themes.code_table(themes.references(pooled), pooled).set_index("code")
    assert list(book["code"]) == list(pooled.codebook["code"])
    assert list(book["definition"]) == list(pooled.codebook["description"])
    assert book.set_index("code")["references"].to_dict() == tallies["references"].to_dict()
    assert book.set_index("code")["participants"].to_dict() == tallies["participants"].to_dict()
    assert (book["exemplar"] != "").sum() >= 15  # nearly every code has words left to quote


def test_every_exemplar_is_a_scrubbed_quote_coded_with_its_own_code(pooled):
    _, book, _ = published(pooled)
    refs = themes.references(pooled)
    for row in book[book["exemplar"] != ""].itertuples():
        assert row.exemplar in set(refs.loc[refs["code"] == row.code, "text"]), row.code


def test_codebook_under_disclosure_control_redacts_small_counts_and_names_only_the_source_type(pooled):
    _, book, display = published(pooled, CONTROL)
    for table, counts in ((book, ("references", "participants")),
                          (display, ("answered", "agree", "role_group_n", "raised"))):
        for value in table[list(counts)].to_numpy().ravel():
            assert value in (REDACTED, "") or (int(value) > 7 and int(value) % 5 == 0), value
    assert not {"exemplar_role_group", "exemplar_participant"} & set(book.columns)
    assert not {"quote_role_group", "quote_participant"} & set(display.columns)


def test_codebook_export_is_valid_against_the_refi_qda_codebook_schema(pooled):
    _, book, _ = published(pooled)
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    document = etree.fromstring(qdc.codebook_qdc(book))
    assert schema.validate(document), schema.error_log
    # The schema can fail: a code without isCodable (required) is refused.
    document.find(".//{urn:QDA-XML:codebook:1.0}Code").attrib.pop("isCodable")
    assert not schema.validate(document)


def test_codebook_export_reads_back_through_our_refi_qda_importer(pooled, tmp_path):
    _, book, _ = published(pooled)
    target = tmp_path / "codebook.qdc"
    target.write_bytes(qdc.codebook_qdc(book))
    export = refi_qda.read_qdc(target)
    codable = [c for c in export.codes.values() if c.codable]
    assert [c.name for c in codable] == list(book["code"])
    assert [c.path for c in codable] == list(zip(book["theme"], book["subtheme"]))
    assert [c.description for c in codable] == list(book["definition"])
    parents = {c.name for c in export.codes.values() if not c.codable}
    assert parents == set(book["theme"]) | set(book["subtheme"])


def test_codebook_export_is_the_same_bytes_for_the_same_codebook(pooled):
    _, book, _ = published(pooled)
    assert qdc.codebook_qdc(book) == qdc.codebook_qdc(book.copy())
    renamed = book.assign(code=book["code"].where(book.index != 0, "Renamed code"))
    assert qdc.codebook_qdc(renamed) != qdc.codebook_qdc(book)


# --- quotes: each once, no small group named -----------------------------------------------------

def test_each_quote_appears_once_across_the_quotes_the_codebook_and_the_joint_display(pooled):
    quotes, book, display = published(pooled)
    every = [" ".join(q.split()).casefold() for q in shown_quotes(quotes, book, display)]
    assert len(every) == len(set(every))
    # The words once shown under two themes (a segment coded under both) now stand under one.
    assert quotes["quote"].str.contains("The peer support is the part of the programme").sum() == 1


def test_a_quote_from_a_role_group_under_small_n_does_not_name_the_group(pooled):
    sizes = pooled.participants["role_group"].value_counts()
    small = {g for g in pooled.role_groups if sizes.get(g, 0) < SMALL_N}
    assert small == {"other"}  # 2 people in the pooled cohorts
    labels = themes.participant_labels(pooled).set_index("label")["participant_id"]
    group_of = labels.map(pooled.participants.set_index("participant_id")["role_group"])  # label -> role group
    quotes, book, display = published(pooled)
    spoken = []
    for table, prefix in ((quotes, ""), (book, "exemplar_"), (display, "quote_")):
        said = table[table[f"{prefix}participant"].astype(str) != ""]
        assert not said[f"{prefix}role_group"].isin(small).any()
        from_small = said[said[f"{prefix}participant"].map(group_of).isin(small)]
        spoken += list(from_small[f"{prefix}role_group"])
    assert spoken and set(spoken) == {""}  # the small group is quoted, and never named


def test_joint_display_agrees_with_the_questionnaire_tables_and_shows_no_small_group(pooled):
    from helpers.analysis import participants

    _, _, display = published(pooled)
    likert = participants.likert_table(pooled).set_index("item")
    by_role = participants.likert_by_role_table(pooled).set_index(["item", "role_group"])
    for row in display.itertuples():
        source = likert.loc[row.item] if row.role_group == joint.ALL else by_role.loc[(row.item, row.role_group)]
        assert (row.answered, row.pct_agree, row.ci_low, row.ci_high) == \
            (source["n"], source["pct_agree"], source["ci_low"], source["ci_high"])
    assert set(display["role_group"]) == {joint.ALL, "clinician", "management", "data science"}
    paired = display[display["theme"] != ""]
    assert set(zip(paired["item"], paired["theme"])) == set(joint.ITEM_THEMES.items())
    # One quote per paired item, on its first row, from the paired theme.
    assert (paired.groupby("item")["quote"].apply(lambda q: (q != "").sum()) == 1).all()


# --- readings ---------------------------------------------------------------------------------

def test_a_reading_names_a_tie_as_a_tie():
    table = pd.DataFrame({"role_group": ["clinician", "management", "other"], "n": [8, 8, 2],
                          "pct": [44.4, 44.4, 11.1], "ci_low": [24.6, 24.6, 3.1], "ci_high": [66.3, 66.3, 32.8]})
    text = readings.participants(table)
    assert "clinician and management, tied at 8" in text
    themes_ = pd.DataFrame({"theme": ["A", "B", "C"], "references": [10, 10, 3], "pct_references": [43.5, 43.5, 13.0]})
    assert readings.themes(themes_).startswith("A and B tie for the most coded references")


def test_no_reading_headlines_a_group_under_small_n():
    tiny = pd.DataFrame({"role_group": ["clinician", "other"], "n": [3, 1], "pct": [75.0, 25.0],
                         "ci_low": [30.1, 4.6], "ci_high": [95.4, 69.9]})
    assert "clinician" not in readings.participants(tiny)
    by_role = pd.DataFrame({"theme": ["A", "B", "A", "B"], "role_group": ["clinician", "clinician", "other", "other"],
                            "references": [9, 3, 2, 0], "sources": [4, 2, 1, 0], "participants": [6, 2, 1, 0],
                            "pct_of_role_group": [75.0, 25.0, 100.0, 0.0], "role_group_n": [6, 6, 1, 1]})
    text = readings.theme_by_role_group(by_role)
    assert "other" not in text and f"references of every role group of at least {SMALL_N} people" in text


# --- the published cleaning log and COREQ -----------------------------------------------------------

def test_published_cleaning_log_names_no_one_who_declined(pooled):
    log = pooled.cleaning_log
    declined = set(log.loc[log["reason"] == REASON_NO_CONSENT, "participant_id"])
    assert declined and declined <= set(log["participant_id"])  # the private log keeps them
    published_log = clean.published_log(pooled)
    assert not declined & set(published_log["participant_id"])
    assert len(published_log) == len(log) and (published_log["reason"] == log["reason"]).all()
    kept = log["participant_id"].isin(declined) | (log["reason"] == REASON_NO_CONSENT)
    assert (published_log.loc[~kept, "participant_id"] == log.loc[~kept, "participant_id"]).all()


def test_coreq_counts_each_quote_the_report_shows_once(pooled, tmp_path):
    quotes, book, display = published(pooled)
    for name, table in (("quotes", quotes), ("codebook", book), ("joint_display", display)):
        table.to_csv(tmp_path / f"{name}.csv", index=False)
    answer = coreq.quotations(coreq.Tables(tmp_path))
    total = len(shown_quotes(quotes, book, display))
    assert answer.text.startswith(f"Yes: {total} quotations, each shown once ({len(quotes)} illustrative")
    assert f"{(book['exemplar'] != '').sum()} in Table" in answer.text


# --- submission-ready Word ------------------------------------------------------------------------

def test_word_table_writes_each_table_property_once_and_negatives_with_a_minus_sign():
    from docx.oxml.ns import qn

    from helpers.report import manuscript
    from helpers.report.tables import Row

    document = manuscript._document()
    manuscript.word_table(document, ["Code", "Kappa", "Definition"],
                          ["Group", Row(["Commitment to the profession", "-0.16", "Service-user talk, 2021-03-04"])])
    properties = document.tables[0]._tbl.tblPr
    tags = [child.tag for child in properties]
    assert len(tags) == len(set(tags)) and tags.count(qn("w:tblLayout")) == 1
    assert properties.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
    cells = [c.text for c in document.tables[0].rows[2].cells]
    assert cells[1] == "\u22120.16" and cells[2] == "Service-user talk, 2021-03-04"


def test_numbers_are_written_the_same_for_quarto_and_latex():
    import re

    import yaml

    from helpers.report import manuscript

    numbers = {"participants.largest_group": "data science", "participants.data_science_pct": "19.5",
               "agreement.kappa_aa_rb": "-0.16", "agreement.coders_aa_rb": "AA & RB", "check.total": "13",
               "themes.largest_theme": "50% of {all}_refs #1"}
    parsed = yaml.safe_load(manuscript.quarto_variables(numbers))
    flat = {f"{group}.{key}": value for group, values in parsed.items() for key, value in values.items()}
    assert flat == {**numbers, "agreement.kappa_aa_rb": "\u22120.16"}  # strings all, negatives with a minus sign
    macros = dict(re.findall(r"^\\newcommand\{\\(\w+)\}\{(.*)\}  % ", manuscript.latex_macros(numbers), re.M))
    assert macros["nhsdaAgreementKappaAaRb"] == "$-$0.16"
    assert macros["nhsdaAgreementCodersAaRb"] == r"AA \& RB"
    assert macros["nhsdaThemesLargestTheme"] == r"50\% of \{all\}\_refs \#1"
    assert macros["nhsdaParticipantsDataSciencePct"] == "19.5" and len(macros) == len(numbers)
    assert all(re.fullmatch(r"[A-Za-z]+", name) for name in macros)  # TeX macro names: letters only
    assert manuscript.latex_name("saturation.cohort1_n") == "nhsdaSaturationCohortOneN"


def test_quotes_carry_short_stable_labels_and_the_key_stays_in_the_processed_folder(pooled):
    from helpers.data import plan

    labels = themes.participant_labels(pooled)
    assert list(labels["label"]) == [f"P{i:02d}" for i in range(1, 42)]
    # Numbered in pseudonym order: the same key and participants, the same labels.
    assert list(labels["participant_id"]) == sorted(pooled.participants["participant_id"])
    quotes, book, display = published(pooled)
    said = set(quotes["participant"]) | set(book["exemplar_participant"]) | set(display["quote_participant"])
    assert said - {""} and said - {""} <= set(labels["label"])
    assert not any(str(v).startswith("PT-") for table in (quotes, book, display) for v in table.to_numpy().ravel())
    assert plan.PARTICIPANT_LABELS.tree == plan.PROCESSED and plan.PARTICIPANT_LABELS not in plan.REPORT.reads
