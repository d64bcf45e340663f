"""How to cite and reuse the project: CITATION.cff valid against CFF 1.2.0, and the licences said
the same way in every place a tool or a person reads them."""
import json
import tomllib

import yaml

from helpers.data import paths

ROOT = paths.PROJECT_ROOT
# The CFF 1.2.0 JSON Schema, vendored from the citation-file-format project (as cffconvert 2.0.0 ships it).
SCHEMA = ROOT / "tests" / "fixtures" / "cff-1.2.0-schema.json"
AUTHOR = "NHS Digital Academy evaluation reproduction contributors"


def citation() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def test_citation_file_is_valid_cff_1_2_0():
    import jsonschema  # (1.3 s to import with its format checkers: not at collection)

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    # CFF dates and DOIs are plain strings; YAML must not have turned anything into another type.
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(citation())


def test_preferred_citation_is_the_bmj_open_paper_it_reproduces():
    paper = citation()["preferred-citation"]
    assert paper["doi"] == "10.1136/bmjopen-2021-056369" and paper["journal"] == "BMJ Open"
    assert paper["year"] == 2022 and paper["start"] == "e056369"
    assert [a["family-names"] for a in paper["authors"]] == ["Acharya", "Black", "Smithies", "Darzi"]


def test_licence_and_authors_agree_across_cff_zenodo_and_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    zenodo = json.loads((ROOT / ".zenodo.json").read_text())
    cff = citation()
    assert project["license"] == zenodo["license"] == cff["license"] == "MIT"
    assert project["authors"] == [{"name": AUTHOR}] and cff["authors"] == [{"name": AUTHOR}]
    assert zenodo["creators"] == [{"name": AUTHOR}]
    assert project["version"] == cff["version"] == zenodo["version"]
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert "CC BY 4.0" in (ROOT / "data" / "LICENSE").read_text()
    assert all((ROOT / name).is_file() for name in project["license-files"])
