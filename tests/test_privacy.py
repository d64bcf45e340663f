"""Pseudonyms and quote scrubbing."""
import pandas as pd
import pytest

from helpers.analysis import clean
from helpers.data import load, privacy
from helpers.data.errors import InputError


def test_pseudonyms_are_stable_for_a_key_and_differ_between_keys():
    ids = pd.Series(["P001", "P002", "P001", ""])
    first, again = privacy.pseudonyms(ids, "key-a"), privacy.pseudonyms(ids, "key-a")
    other = privacy.pseudonyms(ids, "key-b")
    assert first.tolist() == again.tolist()
    assert first[0] == first[2] != first[1] and first[3] == ""
    assert first[0] != other[0]
    assert first[0].startswith("PT-") and len(first[0]) == 13 and "P001" not in first[0]


def test_pseudonym_is_the_documented_keyed_hash():
    import hashlib
    import hmac
    expected = "PT-" + hmac.new(b"secret", b"P001", hashlib.sha256).hexdigest()[:10]
    assert privacy.pseudonyms(pd.Series(["P001"]), "secret")[0] == expected


def test_cleaned_tables_carry_no_raw_participant_id(tiny_raw):
    cleaned = clean.pseudonymise(clean.clean(load.load_inputs(tiny_raw, "tiny"), pooled=False), "k")
    for frame, column in ((cleaned.participants, "participant_id"), (cleaned.segments, "participant_id"),
                          (cleaned.sources, "participant_ids"), (cleaned.cleaning_log, "participant_id")):
        values = set(";".join(frame[column]).split(";")) - {""}
        assert values and all(v.startswith("PT-") for v in values), column


def test_real_data_need_a_key_synthetic_data_do_not(tiny_raw, monkeypatch):
    monkeypatch.delenv(privacy.PSEUDONYM_KEY_ENV, raising=False)
    with pytest.raises(InputError, match="PSEUDONYM_KEY"):
        privacy.resolve_key(tiny_raw)
    (tiny_raw / "SYNTHETIC").write_text("generated\n")
    assert privacy.resolve_key(tiny_raw) == privacy.SYNTHETIC_KEY
    monkeypatch.setenv(privacy.PSEUDONYM_KEY_ENV, "mine")
    assert privacy.resolve_key(tiny_raw) == "mine"


@pytest.mark.parametrize("text, expected", [
    ("write to jo.bloggs@nhs.net today", "write to [email] today"),
    ("call 07700 900123 or 020 7946 0958", "call [phone] or [phone]"),
    ("+44 (0)20 7946 0958", "[phone]"),
    ("NHS number 943 476 5919.", "NHS number [NHS number]."),
    ("NHS number 9434765919", "NHS number [NHS number]"),
    ("ward 12 had 30 beds in 2021", "ward 12 had 30 beds in 2021"),
])
def test_scrub_replaces_contact_details_and_nhs_numbers(text, expected):
    assert privacy.scrub(pd.Series([text]))[0] == expected


def test_scrub_replaces_listed_names_whole_words_any_case(tiny_raw):
    (tiny_raw / "redact_names.txt").write_text("# staff named in interviews\nMary Smith\nMary\nDr Okafor\n")
    names = privacy.read_redact_names(tiny_raw)
    assert names == ["Mary Smith", "Mary", "Dr Okafor"]
    out = privacy.scrub(pd.Series(["mary smith and MARY met dr okafor; Maryam stayed"]), names)[0]
    assert out == "[name] and [name] met [name]; Maryam stayed"
