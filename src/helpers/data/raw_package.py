"""The raw-data contract as a Frictionless Data Package, generated from the contract's code
(helpers.data.load's required and optional columns, helpers.data.contract's values), and the
check of a raw folder with the pipeline's own checks (load.load_inputs, with pandera):

    python -m helpers.data.raw_package --write        # data/datapackage.json, the bundled raw data
    python -m helpers.data.raw_package --check RAW_DIR [--cohort NAME]    # what `make validate` runs
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

from . import dictionary, load, paths
from .contract import FREE_TEXT_PREFIX, LIKERT_PREFIX, ROLE_GROUPS, SOURCE_TYPES
from .errors import InputError

RAW_MEANING = {
    "participant_id": "the respondent's id", "submitted_at": "ISO 8601 date-time of the submission (no zone: UTC)",
    "consent": "yes/no (true/false and 1/0 accepted)", "finished": "yes/no, as consent",
    "role": "the respondent's job as typed; mapped through role_map.csv",
    "source_id": "unique id of an interview, focus group, questionnaire response or dissertation",
    "source_type": "kind of source", "participant_ids": "the participants in it, ';'-separated",
    "date": "optional: when the source was collected (ISO 8601)",
    "segment_id": "id of the coded stretch of text", "code": "a code of codebook.csv",
    "coder": "who applied the code", "text": "the coded text",
    "theme": "theme the code belongs to", "subtheme": "subtheme the code belongs to",
    "description": "what the code means",
    "role_as_typed": "a job title as typed in questionnaire.csv", "role_group": "its role group",
}
ENUMS = {"source_type": SOURCE_TYPES, "role_group": ROLE_GROUPS}


def raw_fields(filename: str, header: list[str]) -> list[dict]:
    """Table Schema fields of a raw file: its required columns (load.REQUIRED_COLUMNS), then every
    optional column of the header the contract names (q_ Likert items, text_ answers, date)."""
    required = load.REQUIRED_COLUMNS[filename]
    prefixes = load.OPTIONAL_PREFIXES.get(filename, ())
    out = []
    for name in (*required, *(c for c in header if c not in required and c.startswith(prefixes))):
        entry = {"name": name, "type": "string"}
        if name.startswith(LIKERT_PREFIX):
            entry.update(type="integer", description="a Likert item: a whole number 1-5, blank for no answer",
                         constraints={"minimum": 1, "maximum": 5})
        elif name.startswith(FREE_TEXT_PREFIX):
            entry["description"] = "a free-text answer"
        else:
            entry["description"] = RAW_MEANING[name]
            if name in ENUMS:
                entry["constraints"] = {"enum": list(ENUMS[name])}
        out.append(entry)
    return out


def _header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle), [])


def raw_package(raw_dir: Path = paths.RAW_DIR, base: Path = paths.DATA_DIR) -> dict:
    """datapackage.json for a raw folder laid out as the contract says (data/README.md)."""
    raw_dir = Path(raw_dir)
    files = [raw_dir / paths.ROLE_MAP] + [folder / name for _, folder in paths.cohort_folders(raw_dir, "all")
                                          for name in paths.COHORT_FILES]
    resources = []
    for path in files:
        relative = path.relative_to(base).as_posix()
        resources.append({"name": relative.removesuffix(".csv").replace("/", "-").replace("_", "-").lower(),
                          "path": relative, "profile": "tabular-data-resource", "format": "csv",
                          "mediatype": "text/csv", "encoding": "utf-8",
                          "schema": {"fields": raw_fields(path.name, _header(path))}})
    return {"profile": dictionary.PROFILE, "name": "nhsda-eval-raw-contract", "licenses": [dictionary.DATA_LICENCE],
            "title": "NHS Digital Academy evaluation: the raw-data contract (the bundled synthetic cohorts)",
            "description": "Every file is comma-separated UTF-8 with a header row; extra columns are allowed and "
                           "ignored. Full rules: data/README.md; `make validate RAW_DIR=... COHORT=...` checks "
                           "a folder with the pipeline's own checks.",
            "resources": resources}


def check_folder(raw_dir: Path, cohort: str) -> int:
    """Check a raw folder with the pipeline's own checks (helpers.data.load); 0 when it passes."""

    try:
        inputs = load.load_inputs(Path(raw_dir), cohort)
    except InputError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{raw_dir} ({cohort}): every file passes the raw-data contract.")
    for note in inputs.notes:
        print(f"  note: {note}")
    return 0


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite data/datapackage.json (the bundled raw data)")
    parser.add_argument("--check", metavar="RAW_DIR", help="check a raw folder against the contract")
    parser.add_argument("--cohort", default="all", help="cohort folder to check (default: every one)")
    args = parser.parse_args(argv)
    if args.check:
        return check_folder(Path(args.check), args.cohort)
    text = dictionary.dumps(raw_package())
    if args.write:
        (paths.DATA_DIR / "datapackage.json").write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
