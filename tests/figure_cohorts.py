"""The tables every figure is drawn from, built in process for the bundled cohorts and for
hostile ones generated from cohort1: 60 codes, code, theme, role-group and item names of
80 characters, 1 or 10 role groups with a one-person group, and disclosure control on.

The tables are made by the analysis functions the notebooks call (02 and 03) and go through
CSV as a run's tables do (helpers.data.store), so the figures read what they read in a run.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from unittest import mock

import pandas as pd

from helpers.analysis import clean, themes
from helpers.analysis import participants as describe
from helpers.analysis.disclosure import OFF, Disclosure
from helpers.data import load, paths, privacy
from helpers.data.store import read_table, write_table

CONTROLLED = Disclosure(min_count=7, round_to=5)
LONGEST = 80  # the contract's longest code, theme, item or role-group name the figures must lay out
FILLER = ("across the regional health and care organisations taking part in the programme over its "
          "two years of study and practice").split()


def long_name(start: str, number: int, length: int = LONGEST) -> str:
    """`start`, then words, to at most `length` characters, unique by its number."""
    tail = f" ({number})"
    name = start
    for word in FILLER * 2:
        if len(name) + 1 + len(word) + len(tail) > length:
            break
        name = f"{name} {word}"
    return name + tail


def _variant(segment_id: str, k: int) -> int:
    return int(hashlib.sha256(segment_id.encode()).hexdigest(), 16) % k


def group_names(role_groups: int, long_names: bool) -> tuple[str, ...]:
    """The role groups of a hostile cohort. The raw-data contract names four groups
    (helpers.data.contract.ROLE_GROUPS); the figures must lay out up to ten, of any name, so
    a hostile cohort's tables are built with the contract's list widened to these."""
    return tuple(long_name(f"Role group {i}", i) if long_names else f"group {i}" for i in range(1, role_groups + 1))


def hostile_raw(root: Path, *, codes: int = 60, long_names: bool = True, role_groups: int = 10) -> Path:
    """A raw folder with one cohort, `hostile`, made from cohort1: its codes split into `codes`
    codes (segments spread over them), names LONGEST characters long if `long_names`, and its
    roles mapped to `role_groups` groups, one of which holds a single person when there are
    several. Returns the raw folder."""
    source = paths.RAW_DIR / "cohort1"
    target = root / "hostile"
    target.mkdir(parents=True)
    shutil.copy(source / "sources.csv", target / "sources.csv")

    codebook = pd.read_csv(source / "codebook.csv", dtype=str, keep_default_na=False)
    per_code = -(-codes // len(codebook))  # variants of each bundled code
    rows, variants = [], {}
    themes_long = {t: long_name(t, i) if long_names else t for i, t in enumerate(dict.fromkeys(codebook["theme"]), 1)}
    for _, row in codebook.iterrows():
        made = []
        for k in range(per_code):
            if len(rows) == codes:
                break
            number = len(rows) + 1
            name = long_name(row["code"], number) if long_names else f"{row['code']} {k + 1}"
            rows.append({**row, "code": name, "theme": themes_long[row["theme"]]})
            made.append(name)
        variants[row["code"]] = made or variants.get(row["code"], [])
    pd.DataFrame(rows).to_csv(target / "codebook.csv", index=False)

    segments = pd.read_csv(source / "coded_segments.csv", dtype=str, keep_default_na=False)
    fallback = rows[-1]["code"]
    segments["code"] = [variants[c][_variant(s, len(variants[c]))] if variants.get(c) else fallback
                        for c, s in zip(segments["code"], segments["segment_id"])]
    segments = segments.drop_duplicates(["segment_id", "code", "coder"])
    segments.to_csv(target / "coded_segments.csv", index=False)

    questionnaire = pd.read_csv(source / "questionnaire.csv", dtype=str, keep_default_na=False)
    if long_names:
        items = [c for c in questionnaire.columns if c.startswith("q_")]
        questionnaire = questionnaire.rename(columns={c: "q_" + long_name(c[2:].replace("_", " "), i)
                                                      .replace(" ", "_").replace("(", "").replace(")", "")
                                                      for i, c in enumerate(items, 1)})
    questionnaire.to_csv(target / "questionnaire.csv", index=False)

    role_map = pd.read_csv(paths.RAW_DIR / paths.ROLE_MAP, dtype=str, keep_default_na=False)
    typed = load.normalise_role(questionnaire["role"])
    held = typed.value_counts()
    roles = role_map["role_as_typed"]
    # The role one person holds gets a group of its own; the others are dealt round the rest.
    single = next((r for r in roles if held.get(load.normalise_role(pd.Series([r]))[0], 0) == 1), None)
    names = group_names(role_groups, long_names)
    others = [r for r in roles if r != single] if role_groups > 1 else list(roles)
    groups = {r: names[1 + i % (role_groups - 1)] if role_groups > 1 else names[0] for i, r in enumerate(others)}
    if role_groups > 1 and single is not None:
        groups[single] = names[0]
    role_map["role_group"] = role_map["role_as_typed"].map(groups)
    role_map.to_csv(root / paths.ROLE_MAP, index=False)
    return root


def tables(raw_dir: Path, cohort: str, folder: Path, rules: Disclosure = OFF, role_groups: tuple[str, ...] = ()):
    """Every table the figures read, built as steps 02 and 03 build them and written to `folder`
    as CSV; returns a function of a table's name reading it back, as a run's figures step does.
    `role_groups`: the groups the role map may name, if not the contract's."""
    groups = role_groups or load.ROLE_GROUPS
    with mock.patch.object(load, "ROLE_GROUPS", groups), mock.patch.object(clean, "ROLE_GROUPS", groups):
        inputs = load.load_inputs(Path(raw_dir), cohort)
        cleaned = clean.pseudonymise(clean.clean(inputs, pooled=cohort == "all"), privacy.SYNTHETIC_KEY)
    refs = themes.references(cleaned)
    built = {
        "participants_by_role": describe.participants_table(cleaned, rules),
        "likert_summary": describe.likert_table(cleaned, rules),
        "likert_by_role": describe.likert_by_role_table(cleaned, rules),
        "theme_tallies": themes.code_table(refs, cleaned, rules),
        "theme_summary": themes.group_table(refs, cleaned, "theme", rules),
        "theme_by_role_group": themes.theme_by_role_group(refs, cleaned, rules),
        "theme_participants": themes.theme_participants_table(refs, cleaned, rules),
        "cooccurrence": themes.cooccurrence_table(refs, cleaned, rules),
        "saturation": themes.saturation_table(refs, cleaned, rules),
    }
    for name, frame in built.items():
        write_table(frame, folder, f"{name}.csv")
    return lambda name: read_table(folder, f"{name}.csv")
