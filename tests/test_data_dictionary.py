"""The data dictionary (datapackage.json) describes every column, of every published table and of
the raw-data contract, from the code that defines them."""
import json

import pandas as pd
import pytest

from helpers.data import dictionary, paths, plan, raw_package
from helpers.notebook import start


def test_every_table_of_the_plan_has_its_columns_described():
    tables = {o.name for o in plan.OUTPUTS if o.kind == plan.TABLE}
    assert set(dictionary.TABLES) == tables
    for name, fields in dictionary.TABLES.items():
        assert len({f.name for f in fields}) == len(fields), name
        assert all(f.description and f.type in ("string", "integer", "number", "boolean") for f in fields), name


def test_a_table_with_an_undescribed_column_is_refused_when_written(tmp_path):
    run, _ = start(plan.DESCRIBE, "c", str(tmp_path / "raw"), str(tmp_path / "p"), str(tmp_path / "r"))
    with pytest.raises(dictionary.DictionaryError, match=r"'sources_by_type' has column\(s\) share .*dictionary.py"):
        run.write(plan.SOURCES_BY_TYPE, pd.DataFrame({"source_type": ["interview"], "n": [1], "share": [1.0]}))
    assert not (tmp_path / "r" / "c" / "tables" / "sources_by_type.csv").exists()


def test_counts_become_text_in_the_dictionary_of_a_controlled_report():
    package = dictionary.published_package("c-min7", {"totals": ["measure", "n"]}, controlled=True)
    fields = package["resources"][0]["schema"]["fields"]
    assert [f["type"] for f in fields] == ["string", "string"] and "redaction" in fields[1]["description"]
    assert package["licenses"][0]["name"] == "CC-BY-4.0"


def test_the_committed_raw_data_dictionary_is_the_one_the_contract_generates():
    committed = (paths.DATA_DIR / "datapackage.json").read_text(encoding="utf-8")
    assert committed == dictionary.dumps(raw_package.raw_package()), \
        "data/datapackage.json is stale: run `.venv/bin/python -m helpers.data.raw_package --write`"


def test_the_raw_data_dictionary_describes_every_column_of_the_bundled_files():
    package = json.loads((paths.DATA_DIR / "datapackage.json").read_text(encoding="utf-8"))
    for resource in package["resources"]:
        header = list(pd.read_csv(paths.DATA_DIR / resource["path"], nrows=0, dtype=str).columns)
        described = [f["name"] for f in resource["schema"]["fields"]]
        assert sorted(described) == sorted(header), resource["path"]


def test_validate_checks_a_raw_folder_with_the_pipelines_own_checks(bundled_raw_copy, capsys):
    assert raw_package.main(["--check", str(bundled_raw_copy), "--cohort", "cohort1"]) == 0
    (bundled_raw_copy / "cohort1" / "sources.csv").write_text("source_id,source_type,participant_ids\nS1,chat,P1\n")
    assert raw_package.main(["--check", str(bundled_raw_copy), "--cohort", "cohort1"]) == 1
    assert "source_type" in capsys.readouterr().err
