"""Deterministic generator of the bundled synthetic cohorts (`make synthetic`).

The study's data are not public. These cohorts are invented, but built so that after
cleaning they reproduce every published figure (src/helpers/published_figures.csv):
cohort1 gives paper 1, cohort1 + cohort2 pooled give paper 2's participant table and
source counts. The raw files carry the mess that cleaning exists for: earlier duplicate
submissions, unfinished and non-consenting responses, roles typed many ways.

Everything derives from fixed seeds and tables below; a rerun writes identical bytes.
"""
from __future__ import annotations

import argparse
import csv
import io
import random
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import paths

# --- codebook: theme -> subtheme -> codes (description, quotes) -----------------------
# Reference counts per code for each cohort are in REFERENCES below; cohort1's total is
# 213 so that the three dissertation-focus codes give 11.7%, 10.3% and 9.4% (25, 22, 20).
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

# Distinct references per code (CODEBOOK order), per cohort.
REFERENCES = {
    "cohort1": [25, 22, 20, 14, 12, 10, 9, 7, 15, 11, 9, 6, 10, 8, 6, 9, 7, 5, 3, 3, 2],
    "cohort2": [14, 12, 11, 9, 8, 7, 6, 5, 10, 8, 6, 4, 7, 6, 4, 6, 5, 3, 6, 5, 5],
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
                 start=datetime(2021, 2, 1, 9, 0, tzinfo=timezone.utc)),
    CohortDesign("cohort2", 2022, {"clinician": 4, "management": 7, "data science": 3, "other": 1},
                 interviews=6, focus_groups=1, dissertations=12,
                 start=datetime(2022, 3, 7, 9, 0, tzinfo=timezone.utc)),
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
# Which kinds of source each theme's references come from, with weights.
SOURCE_MIX = {
    "Loco-regional digitisation": {"dissertation": 5, "interview": 3, "focus_group": 1, "questionnaire": 1},
    "Network of change agents": {"interview": 4, "focus_group": 3, "questionnaire": 2},
    "Barriers": {"interview": 3, "focus_group": 2, "questionnaire": 3, "dissertation": 1},
    "Leadership identity": {"interview": 3, "questionnaire": 2, "focus_group": 1},
}


SYNTHETIC_NOTE = (
    "The cohorts in this folder are synthetic, written by `make synthetic` (helpers/synthetic.py).\n"
    "No real participant is described. They are built to reproduce the published figures of\n"
    "Acharya et al., BMJ Open 2022 and JMIR Med Educ 2024. Remove this file only for real data.\n"
)


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
    for (theme, _sub, code, _desc, quotes), count in zip(CODEBOOK, REFERENCES[design.name]):
        mix = SOURCE_MIX[theme]
        for k in range(count):
            kind = rng.choices(list(mix), weights=list(mix.values()))[0]
            refs.append((code, kind, quotes[k % len(quotes)]))
    rng.shuffle(refs)
    # Codes that travel together in what alumni said: these pairs share segments.
    paired: list[tuple[str, str, str, str]] = []  # (code, kind, quote, partner code)
    for a, b, wanted in CO_CODED:
        refs_a = [r for r in refs if r[0] == a]
        refs_b = [r for r in refs if r[0] == b]
        for ra, rb in list(zip(refs_a, refs_b))[:wanted]:
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
    out_dir = Path(out_dir)
    files = planned_files()
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.synthetic", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(paths.RAW_DIR), help="raw-data folder to write (default data/raw)")
    parser.add_argument("--force", action="store_true", help="replace files that differ")
    args = parser.parse_args(argv)
    for line in write(Path(args.out), args.force):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
