"""Import a survey or coding export into <raw_dir>/<cohort>/ files of the raw-data contract.

    python -m helpers.importers EXPORT --cohort NAME [--raw-dir DIR] [--kind KIND] [--force]
                                [--dictionary FILE] [--codebook FILE] [--mapping FILE]

The first run for a cohort writes a mapping file (<raw_dir>/<cohort>/import_survey.toml or
import_coding.toml) with the importer's guesses marked GUESS, and stops (exit status 3).
Check it, set `confirmed = true`, run the same command again: the contract files are
written, with a summary of what was mapped, what was left out and what is still missing
before `make report` can run. Existing raw files are kept unless --force is given.
Exit status: 0 imported, 1 refused (the message lists every problem), 2 bad arguments,
3 mapping to check.
"""
from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import pandas as pd

from helpers.data import paths
from helpers.data.errors import InputError
from helpers.data.load import normalise_role

from . import KINDS, detect_kind
from .common import (
    EXIT_CONFIRM,
    EXIT_OK,
    EXIT_REFUSED,
    SURVEY,
    MappingNeeded,
    Outcome,
    check_targets,
    load_mapping,
    mapping_path,
    refuse_synthetic_raw_dir,
    write_csv,
    write_new_mapping,
)


def read_export(src: Path, kind: str, dictionary: Path | None = None, codebook: Path | None = None,
                sources_dir: Path | None = None):
    """The export read by its format's module: a SurveyExport or a CodingExport."""
    from . import msforms, qualcoder, qualtrics, redcap, refi_qda, taguette

    if kind == "qualtrics":
        return qualtrics.read(src)
    if kind == "redcap":
        return redcap.read(src, dictionary)
    if kind == "msforms":
        return msforms.read(src)
    if kind in ("refi_qda", "qdc"):
        export = refi_qda.read(src, sources_dir)
        if kind == "qdc" and not export.codebook_only:
            raise InputError(f"{src}: --kind qdc is for a .qdc codebook; this is a project (use --kind refi_qda).")
        return export
    if kind == "taguette":
        return taguette.read(src, codebook)
    if kind == "qualcoder":
        return qualcoder.read(src, codebook)
    raise InputError(f"Unknown kind {kind!r}: use one of {', '.join(KINDS)}.")


def run_import(src: Path, cohort: str, raw_dir: Path = paths.RAW_DIR, kind: str | None = None,
               force: bool = False, dictionary: Path | None = None, codebook: Path | None = None,
               mapping: Path | None = None, sources_dir: Path | None = None) -> Outcome:
    """Import one export into <raw_dir>/<cohort>/.

    Raises MappingNeeded (after writing a starting mapping, or while it is unconfirmed) and
    InputError (a bad export, a mapping that does not fit it, files that would be replaced).
    """
    from helpers.data.params import check_cohort_name, check_folder

    from .coding import build_coding_tables
    from .coding import starting_mapping as coding_mapping
    from .survey import build_questionnaire
    from .survey import starting_mapping as survey_mapping

    cohort = check_cohort_name(cohort)
    raw_dir = check_folder(raw_dir, "RAW_DIR")
    refuse_synthetic_raw_dir(raw_dir)
    src = Path(src).expanduser().resolve()
    kind = kind or detect_kind(src)
    if kind not in KINDS:
        raise InputError(f"Unknown kind {kind!r}: use one of {', '.join(KINDS)}.")
    family = KINDS[kind][0]
    export = read_export(src, kind, dictionary, codebook, sources_dir)
    folder = raw_dir / cohort
    map_file = Path(mapping).expanduser().resolve() if mapping else mapping_path(folder, family)
    if not map_file.exists():
        text = survey_mapping(export, cohort) if family == SURVEY else coding_mapping(export, cohort)
        write_new_mapping(map_file, text)
        raise MappingNeeded(map_file, (
            f"Wrote a starting mapping: {map_file}\n"
            f"It holds the importer's guesses for this {KINDS[kind][1]}, each marked GUESS. Check every line, edit "
            f"what is wrong, set `confirmed = true`, then run the same command again. Nothing else was written."))
    settings = load_mapping(map_file, kind)
    outcome = Outcome(kind=kind)
    if family == SURVEY:
        tables = {paths.QUESTIONNAIRE: build_questionnaire(export, settings, map_file, outcome)}
    else:
        tables = build_coding_tables(export, settings, map_file, outcome)
    outcome.dropped = list(export.dropped) + outcome.dropped
    outcome.notes = list(export.notes) + outcome.notes
    targets = [folder / name for name in tables]
    check_targets(targets, force)
    outcome.written = [write_csv(folder / name, table) for name, table in tables.items()]
    outcome.tables = tables
    return outcome


def _known_roles(role_map: Path) -> set[str]:
    """Roles role_map.csv maps, as matched (case and spacing ignored); empty if it cannot be read."""
    try:
        return set(normalise_role(pd.read_csv(role_map, dtype=str, keep_default_na=False)["role_as_typed"]))
    except (OSError, KeyError, ValueError):  # missing or malformed: the pipeline's checks will say why
        return set()


def cohort_status(raw_dir: Path, cohort: str) -> list[str]:
    """What the pipeline still needs for this cohort, as lines to print."""
    from helpers.data.load import load_inputs

    raw_dir, folder = Path(raw_dir), Path(raw_dir) / cohort
    lines = []
    missing = [name for name in paths.COHORT_FILES if not (folder / name).is_file()]
    if missing:
        lines.append(f"Still missing in {folder}: {', '.join(missing)} "
                     f"({'a survey' if paths.QUESTIONNAIRE in missing else 'a coding'} export brings "
                     f"{'it' if len(missing) == 1 else 'them'}).")
    role_map = raw_dir / paths.ROLE_MAP
    questionnaire = folder / paths.QUESTIONNAIRE
    table = pd.read_csv(questionnaire, dtype=str, keep_default_na=False) if questionnaire.is_file() else None
    unmapped: list[str] = []
    if table is not None and "role" in table:
        roles = table["role"][table["role"].str.strip() != ""]
        unmapped = sorted(set(roles[~normalise_role(roles).isin(_known_roles(role_map))].str.strip()),
                          key=str.casefold)
    if unmapped:
        lines.append(f"{'Add to' if role_map.is_file() else 'Create'} {role_map} the roles below, each with its "
                     f"role_group (clinician, management, data science or other). The importer does not write "
                     f"them for you: a role's group is the analyst's call, and the run refuses unmapped roles.")
        rows = ([] if role_map.is_file() else [["role_as_typed", "role_group"]]) + [[r, "<group>"] for r in unmapped]
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        lines += [f"    {line}" for line in buffer.getvalue().splitlines()]
    elif not missing and role_map.is_file():
        try:
            load_inputs(raw_dir, cohort)
        except InputError as exc:
            lines.append(f"The pipeline would refuse this cohort as it stands:\n{exc}")
    real = not (raw_dir / paths.SYNTHETIC_MARKER).exists()
    if not lines:
        lines.append(f"Ready: make report COHORT={cohort} RAW_DIR={raw_dir}"
                     + (" PSEUDONYM_KEY=<your secret key>" if real else ""))
    elif real:
        lines.append("These are real data: `make report` will also need PSEUDONYM_KEY=<a long random secret>.")
    return lines


def print_outcome(outcome: Outcome, out=print) -> None:
    out(f"Imported ({outcome.kind}):")
    for path in outcome.written:
        out(f"  wrote {path}")
    out("Mapped:")
    for line in outcome.mapped:
        out(f"  {line}")
    if outcome.dropped:
        out("Rows left out:")
        for reason, count in outcome.dropped:
            out(f"  {count:>5}  {reason}")
    if outcome.left_out:
        out(f"Left out ({len(outcome.left_out)}): " + "; ".join(outcome.left_out))
    for note in outcome.notes:
        out(f"Note: {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.importers", description=__doc__.split("\n")[0],
        epilog="Kinds: " + "; ".join(f"{k}: {what}" for k, (_, what) in KINDS.items())
        + ". Guide: docs/bring-your-own-data.md", formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", metavar="EXPORT", help="the export file (.csv, .xlsx, .qdpx, .qdc)")
    parser.add_argument("--cohort", required=True, help="cohort folder to write, e.g. cohort3")
    parser.add_argument("--raw-dir", default=str(paths.RAW_DIR),
                        help="folder of cohort folders (default data/raw, which holds the synthetic data and so "
                             "refuses real exports: give a folder of your own)")
    parser.add_argument("--kind", choices=sorted(KINDS), help="the export's kind, when detection cannot tell")
    parser.add_argument("--force", action="store_true", help="replace raw files that already exist")
    parser.add_argument("--dictionary", type=Path, help="REDCap: the data dictionary CSV (found beside the records "
                                                        "file when there is exactly one)")
    parser.add_argument("--codebook", type=Path, help="Taguette / QualCoder: a codebook (Taguette codebook CSV or "
                                                      "REFI .qdc) giving the code tree and descriptions")
    parser.add_argument("--mapping", type=Path, help="use this mapping file instead of the cohort's "
                                                     "import_survey.toml / import_coding.toml")
    parser.add_argument("--sources-dir", type=Path,
                        help="REFI-QDA: a folder holding source texts the project keeps outside the .qdpx "
                             "(relative:// or absolute:// paths); only files inside it are read")
    args = parser.parse_args(argv)
    try:
        outcome = run_import(Path(args.src), args.cohort, Path(args.raw_dir).expanduser(), args.kind, args.force,
                             args.dictionary, args.codebook, args.mapping, args.sources_dir)
    except MappingNeeded as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIRM
    except InputError as exc:
        print(f"\nERROR: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except MemoryError:
        print(f"\nERROR: {args.src}: reading this export ran out of memory; nothing was written.", file=sys.stderr)
        return EXIT_REFUSED
    except Exception as exc:  # an export no check foresaw: still a message naming the file, never a traceback
        print(f"\nERROR: {args.src} could not be imported ({type(exc).__name__}: {exc}). Nothing was written. "
              f"This export breaks the importer in a way it does not explain yet: please report it.",
              file=sys.stderr)
        return EXIT_REFUSED
    print_outcome(outcome)
    print()
    for line in cohort_status(Path(args.raw_dir).expanduser().resolve(), args.cohort):
        print(line)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
