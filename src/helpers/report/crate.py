"""The report folder described for machines: its data dictionary (Frictionless Data Package,
datapackage.json) and its RO-Crate metadata (ro-crate-metadata.json), which repositories such
as Zenodo, WorkflowHub and DataCite tools read.

Both are built from files the run wrote (the tables, provenance.json and each step's record of
the packages it imported) and from helpers.data.dictionary; nothing is typed here.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from helpers.data import dictionary, plan, provenance

CRATE = "https://w3id.org/ro/crate/1.1"
CODE_LICENCE = "https://spdx.org/licenses/MIT"
PAPER = "https://doi.org/10.1136/bmjopen-2021-056369"


def tables_written(out: Path) -> dict[str, list[str]]:
    """{table: its columns} of every table in the report folder, in the plan's order."""
    tables = Path(out) / "tables"
    found = {}
    for entry in plan.OUTPUTS:
        path = tables / entry.file
        if entry.kind == plan.TABLE and path.is_file():
            found[entry.name] = list(pd.read_csv(path, nrows=0).columns)
    return found


def data_package(out: Path, name: str, controlled: bool) -> dict:
    """datapackage.json: a Table Schema (every column's name, type, meaning) per table written."""
    return dictionary.published_package(name, tables_written(out), controlled)


def step_records(out: Path) -> dict[str, dict]:
    """{step: its record} of every notebook step whose record is in the report folder."""
    records = {}
    for step in plan.STEPS:
        if step.notebook:
            path = Path(out) / plan.imports_of(step).files[0]
            if path.is_file():
                records[step.name] = json.loads(path.read_text(encoding="utf-8"))
    return records


def packages_used(records: dict[str, dict]) -> dict[str, dict]:
    """{distribution: {"version": ..., "steps": [...]}} over every step's record, by name."""
    used: dict[str, dict] = {}
    for step, record in records.items():
        for name, version in record["packages"].items():
            entry = used.setdefault(name, {"version": version, "steps": []})
            if version != entry["version"]:  # two kernels on two versions: say both
                entry["version"] += f", {version}"
            entry["steps"].append(step.partition("_")[0])
    return dict(sorted(used.items()))


def ro_crate(out: Path, name: str, parameters: dict, date: str) -> dict:
    """ro-crate-metadata.json of the report folder (RO-Crate 1.1): the folder as a Dataset, its
    files, the run that made them (a CreateAction with its inputs by SHA-256 and the software it
    used, versions from the steps' records) and the paper it reproduces."""
    out = Path(out)
    prov = json.loads((out / plan.PROVENANCE.files[0]).read_text(encoding="utf-8"))
    records = step_records(out)
    state = records.get(plan.REPORT.name, prov)
    files = [f for entry in plan.OUTPUTS if entry.tree == plan.REPORTS and entry.kind != plan.DOCUMENT
             for f in entry.files if (out / f).is_file() or f == plan.PAGE.files[0]]
    files = [f for f in files if f != plan.RO_CRATE.files[0]]
    inputs = [{"@id": f"#input:{row['file']}", "@type": "File", "name": row["file"], "sha256": row["sha256"],
               "contentSize": str(row["bytes"])} for row in prov["inputs"]]
    software = [{"@id": f"https://pypi.org/project/{package}/", "@type": "SoftwareApplication", "name": package,
                 "version": about["version"]} for package, about in packages_used(records).items()]
    project = {"@id": "#nhsda-eval", "@type": "SoftwareApplication", "name": "nhsda-eval",
               "description": "NHS Digital Academy evaluation: a reproducible analysis",
               "license": {"@id": CODE_LICENCE}, "version": provenance.describe_commit(state),
               "softwareRequirements": [{"@id": s["@id"]} for s in software],
               "identifier": f"requirements.lock sha256:{state.get('lock_sha256')}"}
    graph = [
        {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "conformsTo": {"@id": CRATE},
         "about": {"@id": "./"}},
        {"@id": "./", "@type": "Dataset", "name": f"NHS Digital Academy evaluation: report of {name}",
         "description": "Tables, figures and report of a run of the reproducible analysis of the NHS Digital "
                        "Academy evaluation (Acharya et al., BMJ Open 2022).",
         "datePublished": date, "license": {"@id": dictionary.DATA_LICENCE["path"]},
         "citation": {"@id": PAPER}, "hasPart": [{"@id": f} for f in files], "mentions": {"@id": "#run"}},
        *({"@id": f, "@type": "File", "name": f,
           **({"encodingFormat": "text/csv", "conformsTo": {"@id": plan.DATA_PACKAGE.files[0]}}
              if f.startswith("tables/") else {})} for f in files),
        {"@id": "#run", "@type": "CreateAction", "name": f"make report for {name}", "endTime": date,
         "instrument": {"@id": project["@id"]}, "object": [{"@id": i["@id"]} for i in inputs],
         "result": [{"@id": f} for f in files],
         "additionalProperty": [{"@type": "PropertyValue", "name": key, "value": value}
                                for key, value in parameters.items()]},
        project, *software, *inputs,
        {"@id": PAPER, "@type": "ScholarlyArticle", "name": "Evaluating the impact of a digital leadership "
         "programme on national digital priorities: a mixed methods study", "identifier": PAPER},
        {"@id": dictionary.DATA_LICENCE["path"], "@type": "CreativeWork", "name": dictionary.DATA_LICENCE["title"]},
        {"@id": CODE_LICENCE, "@type": "CreativeWork", "name": "MIT License"},
    ]
    return {"@context": "https://w3id.org/ro/crate/1.1/context", "@graph": graph}
