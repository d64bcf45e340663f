"""Deterministic generator of the bundled synthetic cohorts (`make synthetic`), and of
large cohorts for benchmarking (`python -m helpers.tools.synthetic --out DIR --scale N`).

The study's data are not public. These cohorts are invented, but built so that after
cleaning they reproduce every published figure (src/helpers/published_figures.csv):
cohort1 gives paper 1, cohort1 + cohort2 pooled give paper 2's participant table and
source counts. The raw files carry the mess that cleaning exists for: earlier duplicate
submissions, unfinished and non-consenting responses, roles typed many ways.

Everything derives from fixed seeds and tables below; a rerun writes identical bytes.

A scaled cohort (write_scaled) has N participants and exactly ten references each, built
with numpy in whole arrays so that 100,000 participants take seconds. It reproduces no
published figure; it carries the same kinds of mess and every kind of source.
"""
from __future__ import annotations

import argparse
import csv
import io
import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data import paths
from helpers.data.contract import SYNTHETIC_NOTE

# --- codebook: theme -> subtheme -> codes (description, quotes) -----------------------
# Reference counts per code for each cohort are in DISSERTATION_REFERENCES and
# OTHER_REFERENCES below.
CODEBOOK = [
    ("Loco-regional digitisation", "Dissertation project focus", "Clinician engagement",
     "Projects that brought clinicians into designing or adopting digital change",
     ["Getting the consultants in the room early was what made the project stick.",
      "My dissertation was really about winning over the clinicians on the wards.",
      "Once the nurses saw it saved them time, they became the champions.",
      "We ran clinical design sessions every fortnight for the new order sets."]),
    ("Loco-regional digitisation", "Dissertation project focus", "Service-user engagement",
     "Projects that involved patients or service users in digital change",
     ["We co-designed the app with a patient panel from the start.",
      "Service users told us the letters were the problem, not the portal.",
      "The patient reference group changed the whole direction of the project.",
      "We tested the online booking with carers before going live."]),
    ("Loco-regional digitisation", "Dissertation project focus", "De novo digital processes",
     "Projects that created a digital process where none existed before",
     ["There was no electronic referral at all, so we built one from scratch.",
      "We replaced a paper diary with the trust's first digital rota.",
      "The virtual ward pathway did not exist before my project.",
      "We set up remote monitoring where there had only been phone calls."]),
    ("Loco-regional digitisation", "Dissertation project focus", "Optimising existing systems",
     "Projects that improved digital systems already in place",
     ["We did not need a new system, we needed to use the EPR properly.",
      "Half my project was cleaning up the templates nobody used.",
      "We cut the clicks for discharge summaries by a third."]),
    ("Loco-regional digitisation", "Helping trusts adopt digital solutions", "EPR and system deployment",
     "Supporting the deployment of electronic records and other systems",
     ["I led the go-live for the EPR on the medical wards.",
      "The programme gave me the language to argue for the deployment plan.",
      "We phased the roll-out by site, which the board finally agreed to."]),
    ("Loco-regional digitisation", "Helping trusts adopt digital solutions", "Supporting digital adoption",
     "Helping colleagues and organisations take up digital tools",
     ["Adoption is a people problem more than a technology problem.",
      "I now spend most of my time helping teams actually use what we bought.",
      "We built a super-user network across the trust."]),
    ("Loco-regional digitisation", "Shared organisational learning", "Sharing lessons across teams",
     "Spreading what was learnt in one team or organisation to others",
     ["We wrote up the lessons so the next trust would not repeat our mistakes.",
      "Our learning sessions are now open to the whole integrated care system."]),
    ("Loco-regional digitisation", "Shared organisational learning", "Board-level digital literacy",
     "Raising understanding of digital among boards and senior leaders",
     ["The board now asks better questions about digital.",
      "I run a digital briefing for non-executive directors each quarter."]),
    ("Network of change agents", "Communication between organisations", "Cross-organisation communication",
     "Alumni links that improved communication between organisations",
     ["I can pick up the phone to someone in the next trust now.",
      "The cohort WhatsApp group solves problems faster than any formal channel.",
      "We agreed a shared approach with the neighbouring trust through alumni contacts."]),
    ("Network of change agents", "Communication between organisations", "Peer support from alumni",
     "Support and advice from other programme alumni",
     ["When the project stalled, another alumnus talked me through it.",
      "The peer support is the part of the programme that has lasted."]),
    ("Network of change agents", "National digital infrastructure", "Efficiency of national infrastructure",
     "Network effects on the efficiency of national digital infrastructure",
     ["Because we knew each other, the regional rollout took months, not years.",
      "We stopped three trusts buying the same thing separately."]),
    ("Network of change agents", "National digital infrastructure", "Influencing national policy",
     "Alumni contributing to national digital policy and standards",
     ["I now sit on a national standards group because of the network.",
      "Our feedback went straight into the national guidance."]),
    ("Barriers", "Resource barriers", "Lack of protected time",
     "No protected time to lead digital change",
     ["I did the whole project on top of a full clinical job.",
      "There is no time in the job plan for digital work.",
      "Evenings and weekends, that is when the dissertation happened."]),
    ("Barriers", "Resource barriers", "Funding constraints",
     "Lack of money for digital projects or their continuation",
     ["The pilot worked but there was no money to scale it.",
      "Capital funding came with no revenue to run the system."]),
    ("Barriers", "Resource barriers", "Workforce capacity",
     "Too few staff with digital skills to deliver change",
     ["We have two analysts for the whole trust.",
      "Every informatics post we advertise goes unfilled."]),
    ("Barriers", "Cultural barriers", "Resistance to change",
     "Reluctance of colleagues or organisations to change practice",
     ["People said we have always done it this way.",
      "The resistance was quiet: nobody objected, nobody changed."]),
    ("Barriers", "Cultural barriers", "Hierarchical culture",
     "Hierarchy that limited who could lead digital change",
     ["As a non-clinician I was not listened to until a consultant repeated it.",
      "Decisions sat three levels above the people who knew the problem."]),
    ("Barriers", "Cultural barriers", "Clinical scepticism of digital",
     "Doubt among clinicians that digital tools help patients",
     ["Some clinicians see digital as a distraction from patient care.",
      "The scepticism fades once they see the data."]),
    ("Leadership identity", "Identity domains", "Commitment to the profession",
     "Seeing digital leadership as a profession to commit to",
     ["I now call myself a digital leader, and I mean it.",
      "The programme made digital health my career, not a side project."]),
    ("Leadership identity", "Identity domains", "Critical thinking",
     "Questioning assumptions and evidence in digital change",
     ["I challenge the business case now instead of accepting it.",
      "I learnt to ask what problem the technology actually solves."]),
    ("Leadership identity", "Identity domains", "Goal orientation",
     "Setting and pursuing clear goals for digital change",
     ["I set out a three-year digital plan for the department.",
      "Having a clear goal kept the project alive through two reorganisations."]),
]

# Distinct references per code (CODEBOOK order), per cohort, in dissertations and in the
# other sources (interviews, focus groups, questionnaire free text). Paper 1 gives the
# dissertation-project focus as shares of coded dissertation material: cohort1's
# dissertation references total 213 so that the three focus codes give 11.7%, 10.3% and
# 9.4% (25, 22, 20, the smallest whole-number total that does), and no other code comes
# near them there. Over all sources, loco-regional digitisation and the network of change
# agents stay the two largest themes, as both papers report.
DISSERTATION_REFERENCES = {
    "cohort1": [25, 22, 20, 18, 16, 14, 12, 10, 6, 4, 5, 3, 12, 10, 8, 9, 7, 4, 3, 3, 2],
    "cohort2": [12, 10, 9, 8, 7, 6, 5, 4, 3, 2, 3, 2, 6, 5, 4, 5, 4, 2, 2, 2, 1],
}
OTHER_REFERENCES = {
    "cohort1": [13, 8, 6, 5, 6, 5, 6, 4, 24, 20, 18, 14, 6, 5, 4, 6, 5, 4, 8, 7, 7],
    "cohort2": [6, 4, 3, 3, 3, 3, 3, 2, 12, 10, 9, 7, 4, 3, 3, 4, 3, 2, 7, 6, 6],
}

# Pairs of codes coded together on the same segment, and how many times (per cohort).
CO_CODED = [
    ("Clinician engagement", "Clinical scepticism of digital", 4),
    ("Service-user engagement", "De novo digital processes", 4),
    ("Cross-organisation communication", "Efficiency of national infrastructure", 4),
    ("Lack of protected time", "Funding constraints", 3),
    ("Resistance to change", "Hierarchical culture", 3),
    ("Peer support from alumni", "Commitment to the profession", 2),
]

# Roles as respondents typed them, and the role group each belongs to.
ROLE_SPELLINGS = {
    "clinician": ["Consultant anaesthetist", " GP ", "gp", "Consultant Physician", "Nurse consultant",
                  "Chief Nursing Information Officer", "CCIO", "Registrar in emergency medicine",
                  "Pharmacist", "Clinical lead  for digital", "consultant  anaesthetist",
                  "Consultant radiologist", "Allied health professional lead"],
    "management": ["Head of IM&T", "Programme manager", "Digital transformation lead", "head of IM&T ",
                   "Operations manager", "Project Manager", "Deputy director of digital"],
    "data science": ["Data scientist", "Senior analyst", "Head of business intelligence",
                     "Informatics analyst", "data  scientist"],
    "other": ["Librarian", "Communications officer"],
}


@dataclass(frozen=True)
class CohortDesign:
    name: str
    seed: int
    roles: dict[str, int]  # clean participants per role group
    interviews: int
    focus_groups: int
    dissertations: int
    start: datetime


COHORTS = [
    CohortDesign("cohort1", 2021, {"clinician": 13, "management": 7, "data science": 5, "other": 1},
                 interviews=8, focus_groups=2, dissertations=18,
                 start=datetime(2021, 2, 1, 9, 0, tzinfo=UTC)),
    CohortDesign("cohort2", 2022, {"clinician": 4, "management": 7, "data science": 3, "other": 1},
                 interviews=6, focus_groups=1, dissertations=12,
                 start=datetime(2022, 3, 7, 9, 0, tzinfo=UTC)),
]

LIKERT_ITEMS = ("confidence_leading_change", "network_value", "project_impact", "recommend_programme")
# Mean tendency of each item (1-5): alumni were broadly positive, less so about impact.
LIKERT_CENTRE = (4.1, 3.9, 3.5, 4.3)
FREE_TEXT = {
    "text_biggest_impact": ["The dissertation project changed how my team works.",
                            "Knowing people across the country.", "Confidence to lead change.",
                            "Our trust adopted the pathway I designed.", ""],
    "text_barriers": ["No protected time.", "Funding stopped after the pilot.",
                      "Culture of the organisation.", "", "Lack of analysts."],
}
# Which kinds of source (other than dissertations) each theme's references come from, with weights.
SOURCE_MIX = {
    "Loco-regional digitisation": {"interview": 3, "focus_group": 1, "questionnaire": 1},
    "Network of change agents": {"interview": 4, "focus_group": 3, "questionnaire": 2},
    "Barriers": {"interview": 3, "focus_group": 2, "questionnaire": 3},
    "Leadership identity": {"interview": 3, "questionnaire": 2, "focus_group": 1},
}
# The same with dissertations, for the scaled (benchmark) cohorts, which draw every kind from it.
SCALE_SOURCE_MIX = {
    "Loco-regional digitisation": {"dissertation": 5, "interview": 3, "focus_group": 1, "questionnaire": 1},
    "Network of change agents": {"interview": 4, "focus_group": 3, "questionnaire": 2},
    "Barriers": {"interview": 3, "focus_group": 2, "questionnaire": 3, "dissertation": 1},
    "Leadership identity": {"interview": 3, "questionnaire": 2, "focus_group": 1},
}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_cohort(design: CohortDesign) -> dict[str, list[list[str]]]:
    """Rows (header first) of each contract file of one cohort."""
    rng = random.Random(design.seed)
    n_clean = sum(design.roles.values())
    pids = [f"P{i:03d}" for i in range(1, n_clean + 1)]
    groups = [g for g, n in design.roles.items() for _ in range(n)]
    rng.shuffle(groups)
    roles = {pid: rng.choice(ROLE_SPELLINGS[g]) for pid, g in zip(pids, groups)}

    # Questionnaire: one clean response each, then the mess cleaning must remove.
    q_header = ["participant_id", "submitted_at", "consent", "finished", "role"] + \
        [f"q_{item}" for item in LIKERT_ITEMS] + list(FREE_TEXT)
    answers = {}
    for pid in pids:
        likert = []
        for centre in LIKERT_CENTRE:
            value = min(5, max(1, round(rng.gauss(centre, 0.9))))
            likert.append("" if rng.random() < 0.06 else str(value))
        texts = [rng.choice(options) for options in FREE_TEXT.values()]
        answers[pid] = likert + texts
    consent_words = ["yes", "Yes", "YES", "true", "1"]
    responses = []  # (submitted_at, row)
    for i, pid in enumerate(pids):
        at = design.start + timedelta(days=i // 3, hours=i % 7, minutes=rng.randrange(60))
        responses.append((at, [pid, _iso(at), rng.choice(consent_words), rng.choice(consent_words[:3]),
                               roles[pid]] + answers[pid]))
    # Earlier duplicate submissions of three participants: the later one must win.
    for pid in pids[1:4]:
        earlier = design.start - timedelta(days=2, hours=pids.index(pid))
        responses.append((earlier, [pid, _iso(earlier), "yes", "yes", roles[pid].upper(),
                                    "3", "3", "", "3", "", ""]))
    # A later abandoned attempt of a participant who had already finished: must not win.
    late = design.start + timedelta(days=20)
    responses.append((late, [pids[5], _iso(late), "yes", "no", roles[pids[5]], "2", "", "", "", "", ""]))
    # Unfinished and non-consenting respondents who are not participants.
    extra = n_clean
    for consent, finished in (("yes", "no"), ("Yes", "No"), ("no", "yes"), ("No", "no")):
        extra += 1
        at = design.start + timedelta(days=extra % 9, hours=3)
        responses.append((at, [f"P{extra:03d}", _iso(at), consent, finished,
                               rng.choice(ROLE_SPELLINGS["management"]), "4", "4", "", "", "", ""]))
    responses.sort(key=lambda r: (r[0], r[1][0]))
    questionnaire = [q_header] + [row for _, row in responses]

    # Sources.
    sources = [["source_id", "source_type", "participant_ids"]]
    members: dict[str, list[str]] = {}
    kinds: dict[str, list[str]] = {"interview": [], "focus_group": [], "dissertation": [], "questionnaire": []}
    interviewees = rng.sample(pids, design.interviews)
    for i, pid in enumerate(interviewees, 1):
        sid = f"INT{i:02d}"
        members[sid], kinds["interview"] = [pid], kinds["interview"] + [sid]
    pool = pids[:]
    rng.shuffle(pool)
    size = max(3, len(pids) // (design.focus_groups + 1))
    for i in range(design.focus_groups):
        sid = f"FG{i + 1:02d}"
        members[sid] = sorted(pool[i * size:(i + 1) * size])
        kinds["focus_group"].append(sid)
    authors = rng.sample(pids, design.dissertations)
    for i, pid in enumerate(authors, 1):
        sid = f"DIS{i:02d}"
        members[sid] = [pid]
        kinds["dissertation"].append(sid)
    for pid in pids:
        sid = f"Q-{pid}"
        members[sid] = [pid]
        kinds["questionnaire"].append(sid)
    # When each source was collected: interviews weekly after the questionnaire, focus
    # groups after those, dissertations submitted before the evaluation began.
    first_day = {"interview": 30, "focus_group": 100, "dissertation": -200, "questionnaire": 0}
    spacing = {"interview": 7, "focus_group": 14, "dissertation": 2, "questionnaire": 0}
    sources[0].append("date")
    for kind in ("interview", "focus_group", "dissertation", "questionnaire"):
        for i, sid in enumerate(kinds[kind]):
            day = design.start + timedelta(days=first_day[kind] + spacing[kind] * i)
            sources.append([sid, kind, ";".join(members[sid]), day.strftime("%Y-%m-%d")])

    # References: the designed count per code, placed in segments of plausible sources.
    refs = []
    for (theme, _sub, code, _desc, quotes), in_dissertations, elsewhere in zip(
            CODEBOOK, DISSERTATION_REFERENCES[design.name], OTHER_REFERENCES[design.name]):
        mix = SOURCE_MIX[theme]
        for k in range(in_dissertations + elsewhere):
            kind = ("dissertation" if k < in_dissertations
                    else rng.choices(list(mix), weights=list(mix.values()))[0])
            refs.append((code, kind, quotes[k % len(quotes)]))
    rng.shuffle(refs)
    # Codes that travel together in what alumni said: these pairs share segments. A pair
    # joins two references of the same kind of source, so each code's count per kind of
    # source stays as designed.
    paired: list[tuple[str, str, str, str]] = []  # (code, kind, quote, partner code)
    for a, b, wanted in CO_CODED:
        for _ in range(wanted):
            match = next(((ra, rb) for ra in refs if ra[0] == a
                          for rb in refs if rb[0] == b and rb[1] == ra[1]), None)
            if match is None:
                break
            ra, rb = match
            refs.remove(ra)
            refs.remove(rb)
            paired.append((ra[0], ra[1], ra[2], rb[0]))
    segments = []  # [segment_id, source_id, participant_id, codes, text, kind]
    queues: dict[str, list[str]] = {}
    for code, kind, quote, partner in paired + [(c, k, q, None) for c, k, q in refs]:
        # Otherwise about one reference in eight shares a segment with the previous one.
        prev = segments[-1] if segments else None
        if (partner is None and prev and prev[5] == kind and code not in prev[3] and len(prev[3]) == 1
                and rng.random() < 0.12):
            prev[3].append(code)
            continue
        # Deal sources of each kind in shuffled rounds so that every source gets coded.
        if not queues.get(kind):
            queues[kind] = rng.sample(kinds[kind], len(kinds[kind]))
        sid = queues[kind].pop()
        who = members[sid]
        pid = rng.choice(who)
        if kind == "focus_group" and rng.random() < 0.2:
            pid = ""  # unattributed talk in a focus group
        segments.append([f"S{len(segments) + 1:04d}", sid, pid, [code] + ([partner] if partner else []), quote, kind])

    double_coded_interviews = set(kinds["interview"][:3])
    coded = [["segment_id", "source_id", "participant_id", "code", "coder", "text"]]
    for seg_id, sid, pid, codes, text, kind in segments:
        second = "RB" if kind == "dissertation" else ("AS" if sid in double_coded_interviews else None)
        rows = [("AA", c) for c in codes]
        # Second coders agree often but not always (kappa about 0.7-0.85, as reviewers
        # expect of real double coding); the union of their codes is the designed set.
        if second:
            draw = rng.random()
            if len(codes) == 2 and draw < 0.5:
                rows = [("AA", codes[0]), (second, codes[1])]  # the coders split the codes
            elif len(codes) == 2:
                rows += [(second, codes[0])]                   # the second coder missed one
            elif draw < 0.15:
                rows = [(second, codes[0])]                    # the first coder missed it
            elif draw < 0.30:
                pass                                           # the second coder missed it
            else:
                rows += [(second, codes[0])]                   # full agreement
        # Some coders leave text blank for segments they only tagged.
        for coder, code in rows:
            coded.append([seg_id, sid, pid, code, coder, "" if rng.random() < 0.03 else text])
    codebook = [["code", "theme", "subtheme", "description"]] + [
        [code, theme, sub, desc] for theme, sub, code, desc, _ in CODEBOOK]
    return {paths.QUESTIONNAIRE: questionnaire, paths.SOURCES: sources,
            paths.CODED_SEGMENTS: coded, paths.CODEBOOK: codebook}


def build_role_map() -> list[list[str]]:
    """role_map.csv: one row per distinct spelling once case and spacing are ignored."""
    rows, seen = [["role_as_typed", "role_group"]], set()
    for group, spellings in ROLE_SPELLINGS.items():
        for spelling in spellings:
            key = " ".join(spelling.split()).casefold()
            if key not in seen:
                seen.add(key)
                rows.append([" ".join(spelling.split()), group])
    return rows


def to_csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def planned_files() -> dict[Path, bytes]:
    """Relative path -> exact bytes of every file the generator writes."""
    files = {
        Path(paths.ROLE_MAP): to_csv_bytes(build_role_map()),
        # The report shows a synthetic-data banner when this marker is present in raw_dir.
        Path(paths.SYNTHETIC_MARKER): SYNTHETIC_NOTE.encode("utf-8"),
    }
    for design in COHORTS:
        for name, rows in build_cohort(design).items():
            files[Path(design.name) / name] = to_csv_bytes(rows)
    return files


def write(out_dir: Path, force: bool = False) -> list[str]:
    """Write the synthetic cohorts; refuse to replace a different file unless force."""
    return write_files(Path(out_dir), planned_files(), force)


def write_files(out_dir: Path, files: dict[Path, bytes], force: bool = False) -> list[str]:
    """Write relative path -> bytes under out_dir; refuse to replace a different file unless force."""
    differing = [rel for rel, data in files.items()
                 if (out_dir / rel).exists() and (out_dir / rel).read_bytes() != data]
    if differing and not force:
        listed = ", ".join(str(out_dir / rel) for rel in differing)
        raise SystemExit(f"Refusing to overwrite raw files that differ from the generator's output: "
                         f"{listed}. Rerun with --force (make synthetic FORCE=1) to replace them.")
    report = []
    for rel, data in files.items():
        target = out_dir / rel
        if target.exists() and target.read_bytes() == data:
            report.append(f"unchanged  {target}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        report.append(f"written    {target}")
    return report

# --- scaled cohorts for benchmarking (--scale N) ----------------------------------------
SCALE_SEED = 20240601
REFERENCES_PER_PARTICIPANT = 10
SCALE_ROLE_SHARES = (0.45, 0.30, 0.20, 0.05)  # ROLE_SPELLINGS order
# Respondents cleaning must remove, per participant: earlier duplicate submissions, later
# abandoned attempts (of participants), unfinished and non-consenting respondents (extra ids).
SCALE_DUPLICATES, SCALE_ABANDONED, SCALE_UNFINISHED, SCALE_NO_CONSENT = 0.02, 0.005, 0.01, 0.01
SCALE_INTERVIEWED, SCALE_AUTHORS, SCALE_IN_FOCUS_GROUPS = 0.10, 0.20, 0.30  # shares of participants
FOCUS_GROUP_SIZE = 8
# How often each code (CODEBOOK order) is drawn in scaled cohorts.
SCALE_CODE_WEIGHTS = [25, 22, 20, 14, 12, 10, 9, 7, 15, 11, 9, 6, 10, 8, 6, 9, 7, 5, 3, 3, 2]
SCALE_DOUBLE_CODED = 0.10  # share of interviews and of dissertations also coded by a second coder
SOURCE_KINDS = ("questionnaire", "interview", "focus_group", "dissertation")
SCALE_NOTE = (
    "The cohorts in this folder are synthetic, written by `python -m helpers.tools.synthetic --scale N`\n"
    "(helpers/tools/synthetic.py) for benchmarking. No real participant is described. Remove this file only\n"
    "for real data.\n"
)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    return (prefix + pd.Series(numbers).astype(str).str.zfill(width)).to_numpy()


def _pick(rng: np.random.Generator, options: list[str], size: int, p=None) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=size, p=p)]


def _iso_seconds(seconds: np.ndarray) -> np.ndarray:
    return pd.to_datetime(seconds, unit="s").strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy()


def _scaled_questionnaire(rng, n: int, pids: np.ndarray, start: int) -> tuple[pd.DataFrame, np.ndarray]:
    """(questionnaire rows, ids of the respondents cleaning removes)."""
    extra = np.arange(n, n + int(n * SCALE_UNFINISHED) + int(n * SCALE_NO_CONSENT))
    year = 365 * 86400
    group = rng.choice(len(ROLE_SPELLINGS), size=len(pids), p=SCALE_ROLE_SHARES)
    spellings = list(ROLE_SPELLINGS.values())
    draw = rng.random(len(pids))
    role = np.empty(len(pids), dtype=object)
    for g, options in enumerate(spellings):  # four groups: a loop over groups, not rows
        chosen = group == g
        role[chosen] = np.asarray(options, dtype=object)[(draw[chosen] * len(options)).astype(int)]
    frame = pd.DataFrame({
        "participant_id": pids,
        "submitted": start + rng.integers(0, 2 * year, size=len(pids)),
        "consent": _pick(rng, ["yes", "Yes", "YES", "true", "1"], len(pids)),
        "finished": _pick(rng, ["yes", "Yes", "YES"], len(pids)),
        "role": role,
    })
    for item, centre in zip(LIKERT_ITEMS, LIKERT_CENTRE):
        value = np.clip(np.rint(rng.normal(centre, 0.9, size=len(pids))), 1, 5).astype(int).astype(str)
        frame[f"q_{item}"] = np.where(rng.random(len(pids)) < 0.06, "", value)
    for column, options in FREE_TEXT.items():
        frame[column] = _pick(rng, options, len(pids))
    half = int(n * SCALE_UNFINISHED)
    frame.loc[extra[:half], "finished"] = _pick(rng, ["no", "No"], half)
    frame.loc[extra[half:], "consent"] = _pick(rng, ["no", "No"], len(extra) - half)
    # Earlier duplicates (role typed in capitals): the later submission must win. A later
    # abandoned attempt of a finished participant must not.
    earlier = frame.iloc[rng.choice(n, size=int(n * SCALE_DUPLICATES), replace=False)].copy()
    earlier["submitted"] -= rng.integers(86400, 30 * 86400, size=len(earlier))
    earlier["role"] = earlier["role"].str.upper()
    later = frame.iloc[rng.choice(n, size=int(n * SCALE_ABANDONED), replace=False)].copy()
    later["submitted"] += rng.integers(86400, 30 * 86400, size=len(later))
    later["finished"] = "no"
    rows = pd.concat([frame, earlier, later], ignore_index=True)
    rows = rows.sort_values(["submitted", "participant_id"], kind="mergesort")
    rows.insert(1, "submitted_at", _iso_seconds(rows.pop("submitted").to_numpy()))
    return rows, extra


def build_scaled(participants: int, seed: int = SCALE_SEED) -> dict[str, pd.DataFrame]:
    """The four contract files of a cohort of `participants` participants with ten references each."""
    n = int(participants)
    if n < FOCUS_GROUP_SIZE:
        raise ValueError(f"a scaled cohort needs at least {FOCUS_GROUP_SIZE} participants, not {n}")
    rng = np.random.default_rng(seed)
    respondents = n + int(n * SCALE_UNFINISHED) + int(n * SCALE_NO_CONSENT)
    pids = _ids("P", np.arange(1, respondents + 1), len(str(respondents)))
    start = int(datetime(2021, 1, 4, tzinfo=UTC).timestamp())
    questionnaire, removed = _scaled_questionnaire(rng, n, pids, start)

    # Sources: a questionnaire response per respondent, interviews, focus groups of eight,
    # dissertations. Each participant's own source of each kind (-1: none).
    n_int, n_dis = max(1, int(n * SCALE_INTERVIEWED)), max(1, int(n * SCALE_AUTHORS))
    n_fg = max(1, int(n * SCALE_IN_FOCUS_GROUPS) // FOCUS_GROUP_SIZE)
    own = np.full((len(SOURCE_KINDS), n), -1)
    own[0] = np.arange(n)
    own[1, rng.choice(n, size=n_int, replace=False)] = np.arange(n_int)
    members = rng.choice(n, size=n_fg * FOCUS_GROUP_SIZE, replace=False)
    own[2, members] = np.arange(len(members)) // FOCUS_GROUP_SIZE
    own[3, rng.choice(n, size=n_dis, replace=False)] = np.arange(n_dis)
    day = 86400
    kinds = {  # kind -> (source ids, participant_ids, dates as seconds)
        "questionnaire": (np.char.add("Q-", pids.astype(str)).astype(object), pids, np.full(respondents, start)),
        "interview": (_ids("INT", np.arange(1, n_int + 1), len(str(n_int))), pids[np.argsort(own[1])[-n_int:]],
                      start + 30 * day + (np.arange(n_int) * 730 // n_int) * day),
        "focus_group": (_ids("FG", np.arange(1, n_fg + 1), len(str(n_fg))),
                        pd.Series(pids[members]).groupby(np.arange(len(members)) // FOCUS_GROUP_SIZE)
                        .agg(lambda ids: ";".join(sorted(ids))).to_numpy(),
                        start + 100 * day + (np.arange(n_fg) * 365 // n_fg) * day),
        "dissertation": (_ids("DIS", np.arange(1, n_dis + 1), len(str(n_dis))), pids[np.argsort(own[3])[-n_dis:]],
                         start - 200 * day + (np.arange(n_dis) * 180 // n_dis) * day),
    }
    sources = pd.concat([pd.DataFrame({"source_id": ids, "source_type": kind, "participant_ids": who,
                                       "date": pd.to_datetime(when, unit="s").strftime("%Y-%m-%d")})
                         for kind, (ids, who, when) in kinds.items()], ignore_index=True)
    second = {"interview": "AS", "dissertation": "RB"}
    double = {kind: rng.random(len(kinds[kind][0])) < SCALE_DOUBLE_CODED for kind in second}
    for flags in double.values():
        flags[0] = True  # at least one of each, so agreement always runs

    # References: ten per participant, in segments of one code or of a co-coded pair.
    pairs = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])  # two-code segments per participant
    slot = np.tile(np.arange(REFERENCES_PER_PARTICIPANT), n)
    owner = np.repeat(np.arange(n), REFERENCES_PER_PARTICIPANT)
    paired = slot < 2 * pairs[owner]
    local = np.where(paired, slot // 2, slot - pairs[owner])
    first_segment = np.concatenate([[0], np.cumsum(REFERENCES_PER_PARTICIPANT - pairs)[:-1]])
    segment = first_segment[owner] + local
    code_index = {c[2]: i for i, c in enumerate(CODEBOOK)}
    pair_codes = np.array([[code_index[a], code_index[b]] for a, b, _ in CO_CODED])
    pair_weights = np.array([w for *_, w in CO_CODED], dtype=float)
    chosen_pair = rng.choice(len(CO_CODED), size=len(slot), p=pair_weights / pair_weights.sum())
    weights = np.array(SCALE_CODE_WEIGHTS, dtype=float)
    single = rng.choice(len(CODEBOOK), size=len(slot), p=weights / weights.sum())
    # Both codes of a pair come from the draw at its first slot.
    code = np.where(paired, pair_codes[chosen_pair[owner * REFERENCES_PER_PARTICIPANT + slot - slot % 2],
                                       slot % 2], single)
    position = np.where(paired, slot % 2, 0)

    # Each segment's source: a kind drawn by its first code's theme (SCALE_SOURCE_MIX) among the
    # kinds of source its participant has (everyone has a questionnaire response).
    n_seg = int(segment[-1]) + 1
    seg_owner = owner[position == 0]
    seg_code = code[position == 0]
    themes = list(SCALE_SOURCE_MIX)
    mix = np.array([[max(SCALE_SOURCE_MIX[t].get(k, 0), 0.5 if k == "questionnaire" else 0) for k in SOURCE_KINDS]
                    for t in themes], dtype=float)
    seg_theme = np.array([themes.index(c[0]) for c in CODEBOOK])[seg_code]
    weight = mix[seg_theme] * (own[:, seg_owner].T >= 0)
    cumulative = np.cumsum(weight, axis=1) / weight.sum(axis=1, keepdims=True)
    kind = (rng.random(n_seg)[:, None] > cumulative).sum(axis=1).clip(0, len(SOURCE_KINDS) - 1)
    index = own[kind, seg_owner]
    seg_source = np.empty(n_seg, dtype=object)
    seg_double = np.zeros(n_seg, dtype=bool)
    seg_second = np.full(n_seg, "", dtype=object)
    for k, name in enumerate(SOURCE_KINDS):  # four kinds: a loop over kinds, not rows
        here = kind == k
        seg_source[here] = kinds[name][0][index[here]]
        if name in second:
            seg_double[here] = double[name][index[here]]
            seg_second[here] = second[name]

    # Coder rows. A second coder agrees often but not always (as in build_cohort): on a pair
    # they split the codes or miss the second; on a single code either coder may miss it.
    draw = rng.random(n_seg)[segment]
    size = np.bincount(segment, minlength=n_seg)[segment]
    shared = seg_double[segment]
    first_codes = ~shared | ((size == 2) & ((position == 0) | (draw >= 0.5))) | ((size == 1) & (draw >= 0.15))
    second_codes = shared & (((size == 2) & (((position == 1) & (draw < 0.5)) | ((position == 0) & (draw >= 0.5))))
                             | ((size == 1) & ((draw < 0.15) | (draw >= 0.30))))
    # Respondents removed by cleaning said something too: one segment each, to be dropped.
    gone = len(removed)
    rows = pd.DataFrame({
        "segment": np.concatenate([segment[first_codes], segment[second_codes], n_seg + np.arange(gone)]),
        "rank": np.concatenate([np.zeros(first_codes.sum(), int), np.ones(second_codes.sum(), int),
                                np.zeros(gone, int)]),
        "position": np.concatenate([position[first_codes], position[second_codes], np.zeros(gone, int)]),
        "code": np.concatenate([code[first_codes], code[second_codes], rng.choice(len(CODEBOOK), size=gone)]),
    })
    rows = rows.sort_values(["segment", "rank", "position"], kind="mergesort").reset_index(drop=True)
    segment_source = np.concatenate([seg_source, kinds["questionnaire"][0][removed]])
    segment_pid = np.concatenate([pids[seg_owner], pids[removed]])
    quotes = [q for *_, qs in CODEBOOK for q in qs]
    first_quote = np.cumsum([0] + [len(c[4]) for c in CODEBOOK])
    quote = first_quote[rows["code"]] + (rows["segment"] + rows["position"]) % np.diff(first_quote)[rows["code"]]
    coded = pd.DataFrame({
        "segment_id": _ids("S", rows["segment"].to_numpy() + 1, len(str(n_seg + gone))),
        "source_id": segment_source[rows["segment"]],
        "participant_id": segment_pid[rows["segment"]],
        "code": np.array([c[2] for c in CODEBOOK], dtype=object)[rows["code"]],
        "coder": np.where(rows["rank"] == 0, "AA", np.concatenate([seg_second, np.full(gone, "")])[rows["segment"]]),
        "text": np.where(rng.random(len(rows)) < 0.03, "", np.asarray(quotes, dtype=object)[quote]),
    })
    codebook = pd.DataFrame([[c[2], c[0], c[1], c[3]] for c in CODEBOOK],
                            columns=["code", "theme", "subtheme", "description"])
    return {paths.QUESTIONNAIRE: questionnaire, paths.SOURCES: sources,
            paths.CODED_SEGMENTS: coded, paths.CODEBOOK: codebook}


def scaled_files(participants: int, cohort: str) -> dict[Path, bytes]:
    """Relative path -> exact bytes of a scaled cohort and the shared role map."""
    files = {Path(paths.ROLE_MAP): to_csv_bytes(build_role_map())}
    for name, frame in build_scaled(participants).items():
        files[Path(cohort) / name] = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    return files


def write_scaled(out_dir: Path, participants: int, cohort: str | None = None, force: bool = False) -> list[str]:
    """Write role_map.csv, SYNTHETIC and <cohort>/ (default scale<N>) of a scaled cohort to out_dir."""
    out_dir = Path(out_dir)
    files = scaled_files(participants, cohort or f"scale{int(participants)}")
    if not (out_dir / paths.SYNTHETIC_MARKER).exists():  # any marker will do: keep one already there
        files[Path(paths.SYNTHETIC_MARKER)] = SCALE_NOTE.encode("utf-8")
    return write_files(out_dir, files, force)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.tools.synthetic", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(paths.RAW_DIR), help="raw-data folder to write (default data/raw)")
    parser.add_argument("--force", action="store_true", help="replace files that differ")
    parser.add_argument("--scale", type=int, metavar="N",
                        help="instead of the bundled cohorts, one benchmark cohort of N participants")
    parser.add_argument("--cohort", help="with --scale: the cohort folder's name (default scale<N>)")
    args = parser.parse_args(argv)
    if args.cohort and not args.scale:
        parser.error("--cohort needs --scale")
    if args.scale:
        lines = write_scaled(Path(args.out), args.scale, args.cohort, args.force)
    else:
        lines = write(Path(args.out), args.force)
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
