"""The line each notebook runs after its parameters cell: its step, folders and disclosure rules.

    from helpers.data import plan
    from helpers.notebook import start
    run, rules = start(plan.TALLIES, cohort, raw_dir, processed_dir, out_dir, min_count, round_to)

Every file a notebook reads or writes goes through `run` (`run.read(plan.CLEANED)`,
`run.write(plan.THEME_TALLIES, table)`, `figures.draw(run, plan.ROLE_GROUPS_FIGURE)` through
`run.target`), which refuses,
at once, an output the step does not declare in helpers.data.plan.

Run by the pipeline (`make report`), the folders are the runner's staging folders. Run by
hand in JupyterLab (blank out_dir), the notebook writes to a scratch folder of its own,
reports/_lab/<cohort>/ (and data/processed/_lab/<cohort>/), never over the published
report; what it reads and has not written there itself is copied in from the published
report first (see LabFolders).

Run by hand, it also turns on autoreload, so that an analyst editing a helper in JupyterLab
sees the change in the next cell without restarting the kernel. The pipeline's kernels run
each notebook once, on the helpers as they were when the step started, and skip autoreload's
check of every loaded module before each cell (20 to 30 ms a cell).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers.analysis.disclosure import Disclosure
from helpers.data import paths, plan, safe_write
from helpers.data.paths import RunDirs
from helpers.data.plan import PlanError


def _autoreload() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to reload
        return
    shell = get_ipython()
    if shell is not None and "autoreload" not in shell.extension_manager.loaded:
        shell.run_line_magic("load_ext", "autoreload")
        shell.run_line_magic("autoreload", "2")


class Run:
    """One step's run: its folders, and the only way its notebook reads and writes outputs."""

    def __init__(self, step: plan.Step, dirs: RunDirs, lab: LabFolders | None = None, parameters: dict | None = None):
        self.step, self.dirs, self.lab = step, dirs, lab
        # The run's parameters as provenance records them: no folder, so no machine path.
        self.parameters = parameters or {"cohort": dirs.cohort}
        self.cohort, self.raw, self.pooled = dirs.cohort, dirs.raw, dirs.pooled
        self.processed, self.out, self.tables, self.figures = dirs.processed, dirs.out, dirs.tables, dirs.figures

    def __repr__(self) -> str:
        return f"Run(step={self.step.name!r}, {self.dirs!r}{', lab' if self.lab else ''})"

    # --- what the plan allows --------------------------------------------------------------

    def _declared(self, entry: plan.Output, verb: str, allowed: tuple[plan.Output, ...]) -> None:
        if entry in allowed:
            return
        declared = ", ".join(o.name for o in allowed) or "nothing"
        owner = next((s.name for s in plan.STEPS if entry in s.writes), None)
        raise PlanError(
            f"{self.step.name} does not declare that it {verb} {entry.kind} {entry.name!r}"
            + (f" (written by {owner})" if owner else " (no step writes it)")
            + f": helpers/data/plan.py lists what each step {verb}; {self.step.name} {verb}: {declared}. "
            f"Declare it there (a step writes only its own outputs), or use an output the step declares.")

    def path(self, entry: plan.Output, name: str | None = None) -> Path:
        """Where a file of `entry` is, in this run's folders."""
        root = self.processed if entry.tree == plan.PROCESSED else self.out
        return root / (name or entry.files[0])

    # --- reading ---------------------------------------------------------------------------

    def read(self, entry: plan.Output):
        """A table (DataFrame) or the cleaned data (store.Cleaned) this step declares it reads."""
        from helpers.data import store

        self._declared(entry, "reads", self.step.reads)
        if entry is plan.CLEANED:
            return store.read_cleaned(self.processed)
        if entry.kind == plan.TABLE:
            source = self.path(entry)
            if not source.is_file():
                raise FileNotFoundError(f"{source} not found: it is written by {plan.producer(entry).name}; run "
                                        f"that notebook first (or `make report`).")
            return store.read_table(source.parent, source.name)
        raise TypeError(f"run.read reads tables and the cleaned data, not {entry.kind} {entry.name!r}")

    # --- writing ---------------------------------------------------------------------------

    def target(self, entry: plan.Output, name: str | None = None) -> Path:
        """The path to write a file of `entry` to (its folder made), once the plan allows it."""
        self._declared(entry, "writes", self.step.writes)
        path = self.path(entry, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.lab:
            self.lab.wrote(entry, self.step)
        return path

    def write(self, entry: plan.Output, value) -> Path:
        """Write an output of this step: a table (DataFrame), the cleaned data, the provenance
        manifest (DataFrame), a record (a dict, as JSON) or the page (HTML text); the path written."""
        from helpers.data import dictionary, provenance, store

        target = self.target(entry)
        if entry.kind == plan.TABLE:
            dictionary.check_columns(entry.name, value.columns)  # the data dictionary describes every column
            return store.write_table(value, target.parent, target.name)
        if entry.kind == plan.RECORD:
            target.write_text(json.dumps(value, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            return target
        if entry is plan.CLEANED:
            store.write_cleaned(value, target.parent)
            return target.parent
        if entry is plan.PROVENANCE:
            about = provenance.step_record(self.step.name)
            del about["step"]
            return store.write_provenance(value, target.parent, {"parameters": self.parameters, **about})
        if entry.kind == plan.DATA and entry.tree == plan.PROCESSED and target.suffix == ".csv":
            return store.write_table(value, target.parent, target.name)  # a working list, never published
        if entry is plan.PAGE:
            target.write_text(value, encoding="utf-8")
            return target
        if entry.kind == plan.DATA and entry.tree == plan.PROCESSED and entry.file.endswith(".csv"):
            return store.write_table(value, target.parent, target.name)  # a private table, e.g. the label key
        if entry.kind == plan.DOCUMENT and isinstance(value, bytes):  # a file made whole, e.g. codebook.qdc
            target.write_bytes(value)
            return target
        raise TypeError(f"run.write cannot write {entry.kind} {entry.name!r}: draw a figure with figures.draw")

    def imports(self) -> dict:
        """The record of what this step's kernel ran on, for its `plan.imports(...)` output: the
        packages it imported and their versions, Python, the commit and the lock's hash. Call it
        after the step's last import."""
        from helpers.data import provenance

        return provenance.step_record(self.step.name)

    def read_by_name(self, name: str):
        """A table this step reads, by its name in the plan (what figure functions ask for)."""
        return self.read(plan.output(name))


class LabFolders:
    """A notebook run by hand: scratch folders of the cohort, filled from the published report.

    The scratch folders are reports/_lab/<name>/ and data/processed/_lab/<name>/, <name> being
    the report folder the same settings publish to (cohort1, cohort1-min7-round5). Before the
    notebook runs, every file it reads is copied in from the published report, unless a
    notebook run by hand wrote it there (so running 03 then 04 by hand draws 03's new tables);
    .lab.json records which files those are.
    """

    RECORD = ".lab.json"

    def __init__(self, dirs: RunDirs, published: str):
        self.dirs, self.published = dirs, published
        self.record_path = dirs.out / self.RECORD
        try:
            self.record: dict[str, str] = json.loads(self.record_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            self.record = {}

    def _key(self, entry: plan.Output, name: str) -> str:
        return f"{entry.tree}/{name}"

    def fill(self, step: plan.Step) -> list[str]:
        """Copy in what `step` reads from the published report; lines saying where each came from."""
        said = []
        for entry in step.reads:
            for name in entry.files:
                own = self.record.get(self._key(entry, name))
                root = self.dirs.processed if entry.tree == plan.PROCESSED else self.dirs.out
                published = (paths.PROCESSED_DIR if entry.tree == plan.PROCESSED else paths.REPORTS_DIR) \
                    / self.published / name
                if own:
                    said.append(f"{entry.tree}/{name}: from your run of {own} in this folder")
                elif published.is_file():
                    (root / name).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(published, root / name)
        return said

    def wrote(self, entry: plan.Output, step: plan.Step) -> None:
        for name in entry.files:
            self.record[self._key(entry, name)] = step.name
        self.record_path.write_text(json.dumps(self.record, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def start(step: plan.Step, cohort: str, raw_dir: str = "", processed_dir: str = "", out_dir: str = "",
          min_count: int = 0, round_to: int = 0) -> tuple[Run, Disclosure]:
    """(this step's run, its folders made; its disclosure rules), from the notebook's parameters."""
    rules = Disclosure(int(min_count), int(round_to))
    parameters = {"cohort": str(cohort), "min_count": rules.min_count, "round_to": rules.round_to}
    if str(out_dir).strip():
        return Run(step, RunDirs(cohort, raw_dir, processed_dir, out_dir).make(), parameters=parameters), rules
    _autoreload()
    published = plan.published_name(str(cohort), rules.min_count, rules.round_to)
    dirs = RunDirs(cohort, raw_dir, processed_dir or str(paths.PROCESSED_DIR / paths.LAB_DIR),
                   str(paths.REPORTS_DIR / paths.LAB_DIR), folder=published)
    # The scratch folders are written by this notebook's cells: a link planted in them is refused first.
    safe_write.check_tree(dirs.out, paths.REPORTS_DIR)
    if not str(processed_dir).strip():
        safe_write.check_tree(dirs.processed, paths.PROCESSED_DIR)
    dirs.make()
    lab = LabFolders(dirs, published)
    own = lab.fill(step)
    print(f"Run by hand: writing to {dirs.out} (the published report in {paths.REPORTS_DIR / published} is "
          f"never touched here); reading the published report's files"
          + ("" if not own else ", except:\n  " + "\n  ".join(own)))
    return Run(step, dirs, lab, parameters), rules
