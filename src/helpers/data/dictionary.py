"""The data dictionary: every column of every published table and of the raw-data contract,
as Frictionless Table Schemas in a Data Package (datapackage.json).

The published tables' columns are declared here once, by table name (the names of
helpers.data.plan); `run.write` refuses a table with a column not declared here, and the
report step writes `datapackage.json` beside the tables from these declarations, so the
dictionary cannot drift from what is published. The raw-data contract's dictionary is
generated from the contract's own code by helpers.data.raw_package (kept apart: it imports the
validation library, which the report's kernel does not load).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from .contract import ROLE_GROUPS, SOURCE_TYPES

DATA_LICENCE = {"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/",
                "title": "Creative Commons Attribution 4.0"}
PROFILE = "tabular-data-package"


@dataclass(frozen=True)
class Field:
    """One column: its name, Table Schema type, meaning, and whether every run writes it."""

    name: str
    type: str
    description: str
    optional: bool = False  # absent from some runs (e.g. dropped by disclosure control)
    enum: tuple[str, ...] = ()

    def schema(self, controlled: bool = False) -> dict:
        entry = {"name": self.name, "type": self.type, "description": self.description}
        if controlled and self.type in ("integer", "number"):
            # Disclosure control redacts small counts with a mark: the column is then text.
            entry["type"] = "string"
            entry["description"] += " (a number, or the redaction mark where disclosure control hides a small count)"
        if self.enum:
            entry["constraints"] = {"enum": list(self.enum)}
        return entry


def _f(name: str, kind: str, text: str, **more) -> Field:
    return Field(name, kind, text, **more)


def _said_by(what: str) -> tuple:
    """Who said a published quote (`what`: exemplar or quote), as far as a reader may see it."""
    return (_f(f"{what}_source_type", S, f"kind of source of the {what}"),
            _f(f"{what}_role_group", S, "speaker's role group (blank for a group of fewer than 5)", optional=True),
            _f(f"{what}_participant", S, "speaker's short label (P01...)", optional=True))


S, INT, N, B = "string", "integer", "number", "boolean"
THEME = _f("theme", S, "theme of the codebook")
SUBTHEME = _f("subtheme", S, "subtheme of the codebook")
CODE = _f("code", S, "code of the codebook")
SOURCE_TYPE = _f("source_type", S, "kind of source", enum=SOURCE_TYPES)
ROLE_GROUP = _f("role_group", S, "participant's role group (role_map.csv)", enum=ROLE_GROUPS)
REFERENCES = _f("references", INT, "coded references: segments coded with it")
PCT_REFERENCES = _f("pct_references", N, "share of all coded references, %")
SOURCES = _f("sources", INT, "sources with at least one reference to it")
PARTICIPANTS = _f("participants", INT, "distinct participants with at least one reference to it")
CI = (_f("ci_low", N, "lower bound of the 95% Wilson interval of the percentage"),
      _f("ci_high", N, "upper bound of the 95% Wilson interval of the percentage"))
LIKERT = (_f("n", INT, "answers given"), _f("missing", INT, "blank answers (counted, not dropped)"),
          _f("median", N, "median level (1-5), a level of the scale (inverse of the empirical distribution)"),
          _f("q1", N, "first quartile, a level of the scale"), _f("q3", N, "third quartile, a level of the scale"),
          *(_f(f"n_{level}", INT, f"answers at level {level}") for level in range(1, 6)),
          _f("pct_agree", N, "share answering 4 or 5, %"), *CI)
# Shares of references: clustered within sources, so a cluster bootstrap over sources, not Wilson.
CLUSTER_CI = tuple(_f(f"ci_{end}", N, f"{end}er bound of the 95% cluster-bootstrap interval of the percentage (sources "
                                       f"resampled)") for end in ("low", "high"))
TALLY = (REFERENCES, PCT_REFERENCES, SOURCES, PARTICIPANTS, *CLUSTER_CI)
BY_SOURCE_TYPE = (REFERENCES, SOURCES, PARTICIPANTS,
                  _f("pct_of_source_type", N, "share of the references in sources of this type, %"), *CLUSTER_CI)

# Every published table's columns, in the order they are written (by plan name).
TABLES: dict[str, tuple[Field, ...]] = {
    "input_notes": (_f("note", S, "an oddity in the input that was accepted (encoding, extra columns...)"),),
    "cleaning_log": (_f("cohort", S, "cohort folder of the dropped row"), _f("file", S, "raw file of the row"),
                     _f("row", INT, "row as a spreadsheet numbers it (the header is row 1)"),
                     _f("participant_id", S, "the row's participant, as a keyed pseudonym"),
                     _f("reason", S, "the cleaning rule that dropped it")),
    "cleaning_log_counts": (_f("reason", S, "the cleaning rule"), _f("rows_dropped", INT, "rows it dropped")),
    "participant_characteristics": (
        _f("section", S, "part of Table 1 (responses, role groups...)"), _f("characteristic", S, "row of Table 1"),
        _f("cohort", S, "cohort the row counts"), _f("n", INT, "count"), _f("pct", N, "share of participants, %"),
        *CI, _f("median", N, "median answer to the item (a level of the scale), on its row"),
        _f("q1", N, "first quartile of the answers (a level of the scale)"),
        _f("q3", N, "third quartile of the answers (a level of the scale)")),
    "characteristics_comparison": (
        _f("section", S, "part of Table 1"), _f("characteristic", S, "the characteristic compared"),
        _f("comparison", S, "the two cohorts compared (first vs second)"),
        _f("smd", N, "standardised mean difference, as tableone computes it (categorical: Yang and Dalton's; "
                     "numeric: second minus first over the pooled standard deviation)"),
        _f("test", S, "test across the cohorts, when asked for (compare_test); blank otherwise"),
        _f("p_value", N, "p-value of the test, when asked for"),
        _f("note", S, "warning about the test (e.g. expected counts under 5)")),
    "participants_by_role": (ROLE_GROUP, _f("n", INT, "participants"), _f("pct", N, "share of participants, %"),
                             *CI),
    "sources_by_type": (SOURCE_TYPE, _f("n", INT, "sources")),
    "coding_by_source_type": (SOURCE_TYPE, _f("n", INT, "sources"), _f("coded", INT, "sources with a coded segment"),
                              _f("double_coded", INT, "sources coded by two or more coders")),
    "likert_summary": (_f("item", S, "questionnaire item (a q_ column)"), *LIKERT),
    "likert_by_role": (_f("item", S, "questionnaire item (a q_ column)"), ROLE_GROUP, *LIKERT),
    "totals": (_f("measure", S, "what is counted (participants, sources, references...)"), _f("n", INT, "count")),
    "theme_tallies": (THEME, SUBTHEME, CODE, *TALLY),
    "subtheme_tallies": (THEME, SUBTHEME, *TALLY),
    "theme_summary": (THEME, *TALLY),
    "theme_by_role_group": (THEME, ROLE_GROUP, REFERENCES, SOURCES, PARTICIPANTS,
                            _f("pct_of_role_group", N, "share of the role group's references, %"), *CLUSTER_CI),
    "theme_by_source_type": (THEME, SOURCE_TYPE, *BY_SOURCE_TYPE),
    "code_by_source_type": (THEME, SUBTHEME, CODE, SOURCE_TYPE, *BY_SOURCE_TYPE),
    "quotes": (THEME, CODE, SOURCE_TYPE, _f("role_group", S, "speaker's role group", optional=True),
               _f("participant", S, "speaker's short label (P01...; the key to pseudonyms stays in the processed "
                                    "folder)", optional=True),
               _f("quote", S, "the coded text, scrubbed of identifiers")),
    "theme_participants": (THEME, ROLE_GROUP, _f("participants", INT, "participants of the role group raising it"),
                           _f("role_group_n", INT, "participants in the role group"),
                           _f("pct_of_role_group", N, "share of the role group raising it, %"), *CI),
    "agreement": (_f("code", S, "code, or the pooled row"), _f("coders", S, "the coders compared"),
                  _f("sources", INT, "sources coded by all of them"),
                  _f("units", INT, "units: one segment's yes/no decision for one code"),
                  _f("agreement_pct", N, "raw agreement, %"), _f("cohen_kappa", N, "Cohen's kappa"),
                  _f("krippendorff_alpha", N, "Krippendorff's alpha, nominal"),
                  _f("prevalence_pct", N, "share of the decisions that applied the code, %: the lower, the more "
                                          "kappa and alpha fall below raw agreement (the prevalence paradox)"),
                  *(_f(f"{name}_{end}", N, f"{end}er bound of the 95% interval of {label} (Gwet's variance, as irrCAC)")
                    for name, label in (("cohen_kappa", "Cohen's kappa"), ("krippendorff_alpha", "alpha"))
                    for end in ("low", "high")),
                  _f("pabak", N, "prevalence- and bias-adjusted kappa (Brennan-Prediger): 2 x raw agreement - 1"),
                  *(_f(f"pabak_{end}", N, f"{end}er bound of the 95% interval of PABAK") for end in ("low", "high")),
                  _f("gwet_ac1", N, "Gwet's AC1"),
                  *(_f(f"gwet_ac1_{end}", N, f"{end}er bound of the 95% interval of AC1") for end in ("low", "high"))),
    "cooccurrence": (_f("code_a", S, "first code of the pair"), _f("code_b", S, "second code of the pair"),
                     _f("segments", INT, "segments coded with both"),
                     _f("participants", INT, "participants who raised both")),
    "saturation": (_f("order", INT, "interview's place in date order"), _f("source_id", S, "the interview"),
                   _f("date", S, "when it was collected (ISO 8601)"), _f("codes", INT, "codes found in it"),
                   _f("new_codes", INT, "codes first found in it"),
                   _f("cumulative_codes", INT, "codes found so far"),
                   _f("pct_of_codes_found", N, "share of all codes found so far, %")),
    "project_focus": (THEME, SUBTHEME, CODE, _f("references", INT, "coded references to it in dissertations"),
                      _f("pct_of_dissertation_references", N, "share of all coded dissertation references, %"),
                      *CLUSTER_CI,
                      _f("dissertation_references", INT, "coded references in dissertations (the denominator)"),
                      _f("sources", INT, "dissertations with at least one reference to it"),
                      _f("participants", INT, "distinct participants whose dissertations refer to it")),
    "reproduction_check": (_f("paper", S, "the published paper"), _f("figure", S, "the published figure"),
                           _f("published", S, "the value as published"), _f("computed", S, "the value computed"),
                           _f("computed_at_paper_precision", S, "the computed value rounded as the paper rounds"),
                           _f("agrees", B, "whether the two agree"), _f("status", S, "how they agree"),
                           _f("assumption", S, "assumption behind the comparison, if any"),
                           _f("note", S, "note on the comparison")),
    "codebook": (THEME, SUBTHEME, CODE, _f("definition", S, "the code's definition, as the codebook gives it"),
                 REFERENCES, PARTICIPANTS,
                 _f("exemplar", S, "one quote coded with it, scrubbed of identifiers, shown nowhere else in the "
                                   "report (blank when none is left)"),
                 *_said_by("exemplar")),
    "joint_display": (_f("item", S, "questionnaire item (a q_ column)"),
                      _f("theme", S, "theme the item speaks to (helpers.analysis.joint.ITEM_THEMES; blank: none)"),
                      _f("role_group", S, "role group of at least 5 participants, or all participants"),
                      _f("answered", INT, "answers given to the item"),
                      _f("agree", INT, "answers of 4 or 5"), _f("pct_agree", N, "share answering 4 or 5, %"), *CI,
                      _f("role_group_n", INT, "participants in the role group"),
                      _f("raised", INT, "participants of the role group who raised the theme"),
                      _f("pct_raised", N, "share of the role group who raised the theme, %"),
                      _f("quote", S, "one illustrative quote from the theme, scrubbed, shown nowhere else in the "
                                     "report (on the item's first row)"),
                      *_said_by("quote")),
}


class DictionaryError(Exception):
    """A table has a column the data dictionary does not describe."""


def fields(table: str) -> tuple[Field, ...]:
    try:
        return TABLES[table]
    except KeyError:
        raise DictionaryError(f"table {table!r} has no entry in helpers/data/dictionary.py TABLES: declare its "
                              f"columns there (name, type, meaning)") from None


def check_columns(table: str, columns) -> None:
    """Refuse a table with a column the dictionary does not describe, naming what to add where."""
    known = {f.name for f in fields(table)}
    unknown = [str(c) for c in columns if c not in known]
    if unknown:
        raise DictionaryError(f"table {table!r} has column(s) {', '.join(unknown)} that the data dictionary does "
                              f"not describe: add each to TABLES[{table!r}] in helpers/data/dictionary.py")


def dumps(package: dict) -> str:
    return json.dumps(package, indent=1, ensure_ascii=False) + "\n"


def published_package(name: str, tables: dict[str, list[str]], controlled: bool = False) -> dict:
    """datapackage.json of a report folder: a resource per table written (its columns, in order)."""
    resources = []
    for table, columns in tables.items():
        check_columns(table, columns)
        by_name = {f.name: f for f in fields(table)}
        resources.append({"name": table.replace("_", "-"), "path": f"tables/{table}.csv",
                          "profile": "tabular-data-resource", "format": "csv", "mediatype": "text/csv",
                          "encoding": "utf-8", "schema": {"fields": [by_name[c].schema(controlled) for c in columns]}})
    return {"profile": PROFILE, "name": f"nhsda-eval-{name}".lower(), "licenses": [DATA_LICENCE],
            "title": f"NHS Digital Academy evaluation: tables of {name}", "resources": resources}
