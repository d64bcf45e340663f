"""`make bench`: how fast the pipeline is and how much memory it takes, on this machine.

    python -m helpers.runner.bench [--sizes 1000 10000 100000] [--repeat 3] [--out reports/bench.json]

Measured in one run, each as a fresh process started the way a user starts it:

- floor: papermill executing as many notebooks as the pipeline has, each holding only the
  imports of its real counterpart, then one nbconvert to HTML. Starting kernels and
  importing the libraries is a cost no papermill pipeline can avoid; the rest is ours.
- a plain papermill chain: the same five notebooks run one after another by the papermill
  command, each in a process and kernel of its own, then every executed notebook converted to
  HTML by nbconvert, as a Makefile of papermill commands does;
- cold `make report` on cohort1 (nothing built before), and its ratio to the floor and to
  the papermill chain;
- a no-op rebuild (nothing changed); a rebuild after editing the figures notebook's heading
  (every figure comes out the same: only that step reruns, and draws none, each kept in the
  memo); a rebuild after editing one figure's cell (that figure alone is drawn, and the report
  is made again), with `make report` and under `make watch`;
- bad input answered: `make report` on a raw folder missing a file, and on real data without
  the pseudonym key, until the message (no kernel starts: the runner checks first);
- cold runs on generated cohorts of N participants with 10 coded references each: wall
  time, peak memory (sum of the RSS of the whole process tree, sampled every 50 ms) and
  the report's size.

Times are medians over --repeat runs (one run per generated size), after one untimed
import of the libraries so that no measured run pays for a cold file cache. Everything is built in
a scratch folder under reports/, never in reports/<cohort>, with a copy of the notebooks.
Writes reports/bench.json and prints a table. Exits 1 when a no-op rebuild ran a step, a
heading edit ran more than the figures or drew a figure, a figure-cell edit ran more than the
figures and the report or drew another figure than its own, or bad input did not stop the run
with its message: those are broken builds, not slow ones.
Missed speed targets are reported, not failed, since the machine is shared.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from helpers.data import paths, plan

from . import steps

SIZES = (1_000, 10_000, 100_000)
REFERENCES_PER_PARTICIPANT = 10
FIGURES_NOTEBOOK = plan.FIGURES.name
# Targets from the speed issue: benchmark figures for a 2-core machine, not timed tests.
TARGETS = {
    "cold_over_floor": 1.25,
    "cold_over_chain": 0.5,
    "noop_seconds": 0.5,
    "figures_over_cold": 0.40,
    "figure_cell_over_cold": 0.25,
    "figure_cell_seconds": 5.0,
    "bad_input_seconds": 2.0,
    "largest_seconds": 60.0,
    "largest_peak_mb": 2048.0,
    "report_mb": 2.0,
    "growth_10x": 10.0,  # 10 times the participants: at most 10 times the time (linear)
}
STEP_LINE = re.compile(r"\[\d+/\d+\] (\S+\.ipynb) +(\d+\.\d) s")
# What the figures step's line says it drew, when it kept others from the memo ("drew none").
DREW = re.compile(r"\] 04_figures\.ipynb .*; drew (.+), kept (\d+) figures? drawn from the same inputs before")
# Run as its own process by the floor measurement: papermill over the import-only
# notebooks, then one nbconvert of the last to HTML, as a report step would.
FLOOR_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path

    import papermill
    from nbconvert import HTMLExporter

    folder = Path(sys.argv[1])
    books = sorted(folder.glob("*.ipynb"))
    (folder / "out").mkdir()
    for book in books:
        papermill.execute_notebook(str(book), str(folder / "out" / book.name), kernel_name="python3",
                                   cwd=str(folder), progress_bar=False, log_output=False)
    html, _ = HTMLExporter().from_filename(str(folder / "out" / books[-1].name))
    (folder / "out" / "last.html").write_text(html)
""")


# Run as its own process by the papermill-chain measurement: what a project without this runner
# does, one papermill command per notebook in order, then nbconvert to HTML of what they ran.
CHAIN_SCRIPT = textwrap.dedent("""
    import subprocess
    import sys
    from pathlib import Path

    notebooks, raw, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    executed = []
    (out / "executed").mkdir(parents=True)
    for name in sys.argv[4:]:
        executed.append(out / "executed" / name)
        subprocess.run([sys.executable, "-m", "papermill", "--no-progress-bar", "--cwd", str(notebooks),
                        str(notebooks / name), str(executed[-1]), "-p", "cohort", "cohort1", "-p", "raw_dir", raw,
                        "-p", "processed_dir", str(out / "processed"), "-p", "out_dir", str(out / "reports")],
                       check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", *map(str, executed)],
                   check=True, capture_output=True)
""")


class Measured(dict):
    """seconds, peak_mb, stdout, stderr, returncode of one process tree."""


def measure(command: list[str], cwd: Path = paths.PROJECT_ROOT, env: dict | None = None) -> Measured:
    """Run `command`; its wall time and the peak summed RSS of it and all its descendants."""
    import psutil

    env = {**os.environ, **(env or {})}
    for variable in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):  # measure what a user's `make` does
        env.pop(variable, None)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = psutil.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err, text=True)
        peak = 0
        done = threading.Event()

        def sample():
            nonlocal peak
            while not done.is_set():
                total = 0
                try:
                    for proc in [process] + process.children(recursive=True):
                        try:
                            total += proc.memory_info().rss
                        except psutil.Error:
                            pass
                except psutil.Error:
                    pass
                peak = max(peak, total)
                done.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        returncode = process.wait()
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        out.seek(0), err.seek(0)
        return Measured(seconds=seconds, peak_mb=peak / 2**20, stdout=out.read(), stderr=err.read(),
                        returncode=returncode)


def steps_run(result: Measured) -> list[str]:
    return [name for name, _ in STEP_LINE.findall(result["stdout"])]


def check(result: Measured, what: str) -> Measured:
    if result["returncode"] != 0:
        raise RuntimeError(f"{what} failed (exit {result['returncode']}):\n{result['stdout']}\n{result['stderr']}")
    return result


def import_only_notebooks(target: Path, notebooks_dir: Path = paths.NOTEBOOKS_DIR) -> list[Path]:
    """For each pipeline notebook, one holding only its import lines (and autoreload)."""
    import nbformat

    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in plan.NOTEBOOKS:  # papermill runs them on the python3 kernel, as the pipeline does
        lines = steps.import_lines(notebooks_dir / name)
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("\n".join(lines))]), target / name)
        written.append(target / name)
    return written


def make_report(scratch: Path, cohort: str, raw_dir: Path = paths.RAW_DIR, *extra: str) -> list[str]:
    return ["make", "-s", "--no-print-directory", "report", f"COHORT={cohort}", f"RAW_DIR={raw_dir}",
            f"REPORTS_DIR={scratch / 'reports'}", f"PROCESSED_DIR={scratch / 'processed'}",
            f"NOTEBOOKS_DIR={scratch / 'notebooks'}", *extra]


def fresh_scratch(root: Path, name: str) -> Path:
    scratch = root / name
    if scratch.exists():
        shutil.rmtree(scratch)
    shutil.copytree(paths.NOTEBOOKS_DIR, scratch / "notebooks")
    return scratch


def edit_figures_notebook(notebooks_dir: Path, mark: int) -> None:
    """A real edit an analyst might make: a new sentence in the figures notebook's heading."""
    book = notebooks_dir / FIGURES_NOTEBOOK
    data = json.loads(book.read_text())
    data["cells"][0]["source"].append(f"\n\nBenchmark edit {mark}.")
    book.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


# The figure whose cell edit_figure_cell edits.
EDITED_FIGURE = plan.ROLE_GROUPS_FIGURE


def edit_figure_cell(notebooks_dir: Path, mark: int) -> None:
    """A real edit of one figure's cell: the role-group figure drawn on a faintly tinted ground,
    a new tint for each mark, so that this figure (and the page showing it) changes, no other."""
    book = notebooks_dir / FIGURES_NOTEBOOK
    data = json.loads(book.read_text())
    cell = next(c for c in data["cells"] if c["cell_type"] == "code"
                and f"figures.draw(run, plan.{EDITED_FIGURE.name.upper()}_FIGURE)" in "".join(c["source"]))
    cell["source"] = ["import matplotlib.pyplot as plt\n", "\n",
                      f'with plt.rc_context({{"figure.facecolor": "#fffff{mark % 10}"}}):\n',
                      f"    drawn = figures.draw(run, plan.{EDITED_FIGURE.name.upper()}_FIGURE)\n", "drawn"]
    book.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def broken_raw(root: Path, missing_key: bool) -> Path:
    """A copy of the bundled raw folder that must be refused: cohort1 without its sources file, or
    (missing_key) marked as real data, which needs a pseudonym key, with none given."""
    raw = root / ("raw-real" if missing_key else "raw-broken")
    if raw.exists():
        shutil.rmtree(raw)
    shutil.copytree(paths.RAW_DIR, raw)
    (raw / (paths.SYNTHETIC_MARKER if missing_key else f"cohort1/{paths.SOURCES}")).unlink()
    return raw


def refused(result: Measured, what: str, expected: str) -> Measured:
    if result["returncode"] == 0 or expected not in result["stderr"] or "starting kernels" in result["stdout"]:
        raise RuntimeError(f"{what}: expected a refusal naming {expected!r} before any kernel started:\n"
                           f"{result['stdout']}\n{result['stderr']}")
    return result


def watch_edits(scratch: Path, repeat: int) -> dict:
    """`make watch` on the scratch build: seconds from each saved figure-cell edit to the watcher's
    'Done' line (the report published), with its kernels kept ready between edits."""
    import queue

    command = make_report(scratch, "cohort1")
    command[command.index("report")] = "watch"
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    process = subprocess.Popen(command, cwd=paths.PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=env, start_new_session=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout] + [lines.put(None)],
                     daemon=True).start()
    seen: list[str] = []

    def until(start: str) -> None:
        while True:
            line = lines.get(timeout=600)
            if line is None:
                raise RuntimeError("make watch ended:\n" + "".join(seen))
            seen.append(line)
            if line.startswith(start):
                return

    runs, ran, said = [], set(), []
    try:
        until("Watching")
        for i in range(repeat):
            time.sleep(2.0)  # the kept kernels have started and imported (as between an analyst's saves)
            mark = len(seen)
            edit_figure_cell(scratch / "notebooks", 5 + i)
            started = time.perf_counter()
            until("Done in")
            runs.append(time.perf_counter() - started)
            ran |= {name for name, _ in STEP_LINE.findall("".join(seen[mark:]))}
            said.append(Measured(stdout="".join(seen[mark:])))
            until("Watching")
    finally:
        os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C does: make and the watcher
        process.wait(timeout=120)
    return {"seconds": median(runs), "runs": [round(r, 3) for r in runs], "steps_run": sorted(ran),
            "drew": drawn(said)}


def median(values: list[float]) -> float:
    return statistics.median(values)


def bench(sizes: list[int], repeat: int, root: Path, log=print) -> dict:
    from helpers.tools import synthetic

    python = str(Path(sys.executable))
    results: dict = {"machine": machine(), "repeat": repeat, "targets": TARGETS}
    problems: list[str] = []

    # Not timed: read the libraries from disk once, so that the first measured run does not
    # pay for a cold file cache that later runs do not.
    check(measure([python, "-c", "import papermill, nbconvert, helpers.analysis.themes, "
                               "helpers.report.figures, helpers.report.page"]),
          "The warm-up import")
    # Floor and cold runs alternate, so that a machine growing busier or quieter during the
    # benchmark moves both alike and their ratio stays fair.
    log(f"Floor (papermill over {len(plan.NOTEBOOKS)} import-only notebooks + one nbconvert) "
        f"and cold make report on cohort1, alternately ({repeat}x each)")
    floor_runs, chain_runs, cold_runs = [], [], []
    for i in range(repeat):
        folder = root / f"floor-{i}"
        import_only_notebooks(folder)
        floor_runs.append(check(measure([python, "-c", FLOOR_SCRIPT, str(folder)]), "The floor run"))
        chain = fresh_scratch(root, f"chain-{i}")
        chain_runs.append(check(measure([python, "-c", CHAIN_SCRIPT, str(chain / "notebooks"), str(paths.RAW_DIR),
                                         str(chain), *plan.NOTEBOOKS]), "The papermill chain"))
        scratch = fresh_scratch(root, "cohort1")
        cold_runs.append(check(measure(make_report(scratch, "cohort1")), "Cold make report"))
    results["floor"] = summary(floor_runs)
    results["papermill_chain"] = summary(chain_runs)
    results["cold_cohort1"] = summary(cold_runs) | {"steps": step_seconds(cold_runs[-1])}
    results["cold_over_floor"] = results["cold_cohort1"]["seconds"] / results["floor"]["seconds"]
    results["cold_over_chain"] = results["cold_cohort1"]["seconds"] / results["papermill_chain"]["seconds"]

    noop_repeat = max(repeat, 5)
    log(f"No-op make report ({noop_repeat}x)")
    noop_runs = [check(measure(make_report(scratch, "cohort1")), "No-op make report") for _ in range(noop_repeat)]
    results["noop"] = summary(noop_runs) | {"steps_run": sorted({s for r in noop_runs for s in steps_run(r)})}
    if results["noop"]["steps_run"]:
        problems.append(f"a no-op rebuild ran {results['noop']['steps_run']}")

    log(f"Figures notebook heading edited, make report ({repeat}x)")
    figure_runs = []
    for i in range(repeat):
        edit_figures_notebook(scratch / "notebooks", i)
        figure_runs.append(check(measure(make_report(scratch, "cohort1")), "Figures-only make report"))
    ran = sorted({s for r in figure_runs for s in steps_run(r)})
    results["figures_only"] = summary(figure_runs) | {"steps_run": ran, "steps": step_seconds(figure_runs[-1]),
                                                      "drew": drawn(figure_runs)}
    results["figures_over_cold"] = results["figures_only"]["seconds"] / results["cold_cohort1"]["seconds"]
    if ran != [FIGURES_NOTEBOOK]:
        problems.append(f"a heading edit of the figures notebook ran {ran}")
    if results["figures_only"]["drew"] != ["none"]:  # every figure's inputs are unchanged: all from the memo
        problems.append(f"a heading edit of the figures notebook drew {results['figures_only']['drew']}")

    log(f"One figure's cell edited, make report ({repeat}x)")
    cell_runs = []
    for i in range(repeat):
        edit_figure_cell(scratch / "notebooks", i + 1)
        cell_runs.append(check(measure(make_report(scratch, "cohort1")), "Figure-cell make report"))
    ran = sorted({s for r in cell_runs for s in steps_run(r)})
    results["figure_cell"] = summary(cell_runs) | {"steps_run": ran, "steps": step_seconds(cell_runs[-1]),
                                                   "drew": drawn(cell_runs)}
    results["figure_cell_over_cold"] = results["figure_cell"]["seconds"] / results["cold_cohort1"]["seconds"]
    if ran != [FIGURES_NOTEBOOK, plan.NOTEBOOKS[-1]]:
        problems.append(f"a figure-cell edit ran {ran}")
    if results["figure_cell"]["drew"] != [EDITED_FIGURE.name]:
        problems.append(f"a figure-cell edit of {EDITED_FIGURE.name} drew {results['figure_cell']['drew']}")

    log(f"One figure's cell edited under make watch, kernels kept ready ({repeat}x)")
    results["figure_cell_watch"] = watch_edits(scratch, repeat)
    results["figure_cell_watch_over_cold"] = \
        results["figure_cell_watch"]["seconds"] / results["cold_cohort1"]["seconds"]
    if results["figure_cell_watch"]["steps_run"] != [FIGURES_NOTEBOOK, plan.NOTEBOOKS[-1]]:
        problems.append(f"a figure-cell edit under make watch ran {results['figure_cell_watch']['steps_run']}")
    if results["figure_cell_watch"]["drew"] != [EDITED_FIGURE.name]:
        problems.append(f"a figure-cell edit under make watch drew {results['figure_cell_watch']['drew']}")

    for key, missing_key, expected in (("bad_input", False, f"cohort1/{paths.SOURCES}: file is missing"),
                                       ("missing_key", True, "PSEUDONYM_KEY=")):
        raw = broken_raw(root, missing_key)
        log(f"Bad input refused: {'no pseudonym key for real data' if missing_key else 'a missing file'} "
            f"({repeat}x)")
        env = {"NHSDA_PSEUDONYM_KEY": ""}
        results[key] = summary([refused(measure(make_report(scratch, "cohort1", raw), env=env), key, expected)
                                for _ in range(repeat)])

    results["scale"] = []
    for size in sizes:
        cohort = f"scale{size}"
        raw = root / f"raw-{size}"
        if raw.exists():
            shutil.rmtree(raw)
        started = time.perf_counter()
        synthetic.write_scaled(raw, size, cohort=cohort)
        generated = time.perf_counter() - started
        log(f"Cold make report, {size:,} participants x {REFERENCES_PER_PARTICIPANT} references")
        scratch = fresh_scratch(root, cohort)
        run = check(measure(make_report(scratch, cohort, raw)), f"make report on {cohort}")
        report = scratch / "reports" / cohort / "report.html"
        results["scale"].append({
            "participants": size, "references": size * REFERENCES_PER_PARTICIPANT,
            "seconds": run["seconds"], "peak_mb": run["peak_mb"], "report_bytes": report.stat().st_size,
            "raw_bytes": sum(p.stat().st_size for p in raw.rglob("*") if p.is_file()),
            "generate_seconds": generated, "steps": step_seconds(run),
        })
        shutil.rmtree(raw)
    by_size = {row["participants"]: row for row in results["scale"]}
    if 10_000 in by_size and 100_000 in by_size:
        results["growth_10x"] = by_size[100_000]["seconds"] / by_size[10_000]["seconds"]
    results["problems"] = problems
    return results


def summary(runs: list[Measured]) -> dict:
    return {"seconds": median([r["seconds"] for r in runs]), "runs": [round(r["seconds"], 3) for r in runs],
            "peak_mb": max(r["peak_mb"] for r in runs)}


def drawn(runs: list[Measured]) -> list[str]:
    """The figures the runs' figures step drew ("none": every one came from the memo), in name order;
    ["?"] when a run's line does not say (no memo: every figure was drawn)."""
    said = [DREW.search(r["stdout"]) for r in runs]
    return sorted({name.strip() for m in said for name in m.group(1).split(",")}) if all(said) else ["?"]


def step_seconds(run: Measured) -> dict[str, float]:
    return {name: float(seconds) for name, seconds in STEP_LINE.findall(run["stdout"])}


def machine() -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=paths.PROJECT_ROOT,
                            capture_output=True, text=True).stdout.strip()
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "cpus": os.cpu_count(),
            "python": platform.python_version(), "platform": platform.platform(), "commit": commit or None}


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "not measured"
    return "met" if value <= target else "MISSED"


def table(results: dict) -> str:
    """The results as a Markdown table (printed, and pasted into docs/speed.md)."""
    t = TARGETS
    floor, cold = results["floor"]["seconds"], results["cold_cohort1"]["seconds"]
    chain = results["papermill_chain"]["seconds"]
    rows = [
        ("Floor: 5 import-only notebooks + 1 nbconvert", f"{floor:.1f} s", "", ""),
        ("Plain papermill chain: 5 papermill commands + nbconvert of the 5", f"{chain:.1f} s", "", ""),
        ("Cold `make report`, cohort1", f"{cold:.1f} s = {results['cold_over_floor']:.2f}x floor",
         f"<= {t['cold_over_floor']}x floor", verdict(results["cold_over_floor"], t["cold_over_floor"])),
        ("Cold `make report` against the papermill chain", f"{results['cold_over_chain']:.2f}x",
         f"<= {t['cold_over_chain']}x", verdict(results["cold_over_chain"], t["cold_over_chain"])),
        ("No-op `make report`", f"{results['noop']['seconds']:.2f} s, steps run: {len(results['noop']['steps_run'])}",
         f"< {t['noop_seconds']} s", verdict(results["noop"]["seconds"], t["noop_seconds"])),
        ("Figures notebook's heading edited, `make report`",
         f"{results['figures_only']['seconds']:.1f} s = {100 * results['figures_over_cold']:.0f}% of cold",
         f"< {100 * t['figures_over_cold']:.0f}% of cold",
         verdict(results["figures_over_cold"], t["figures_over_cold"])),
    ]
    for key, how in (("figure_cell", "`make report`"), ("figure_cell_watch", "`make watch` (kernels kept ready)")):
        if key in results:
            seconds, share = results[key]["seconds"], results[f"{key}_over_cold"]
            rows.append((f"One figure's cell edited, {how}", f"{seconds:.1f} s = {100 * share:.0f}% of cold",
                         f"< {t['figure_cell_seconds']:.0f} s and < {100 * t['figure_cell_over_cold']:.0f}% of cold",
                         "met" if seconds < t["figure_cell_seconds"] and share < t["figure_cell_over_cold"]
                         else "MISSED"))
    for key, what in (("bad_input", "a missing file"), ("missing_key", "real data, no pseudonym key")):
        if key in results:
            rows.append((f"Bad input -> message: {what}", f"{results[key]['seconds']:.2f} s",
                         f"< {t['bad_input_seconds']:.0f} s", verdict(results[key]["seconds"], t["bad_input_seconds"])))
    for row in results["scale"]:
        report_mb = row["report_bytes"] / 1e6
        limits = [verdict(report_mb, t["report_mb"])]
        target = f"report < {t['report_mb']:.0f} MB"
        if row["participants"] == max(r["participants"] for r in results["scale"]) and row["participants"] >= 100_000:
            target = f"< {t['largest_seconds']:.0f} s, < {t['largest_peak_mb'] / 1024:.0f} GB, " + target
            limits += [verdict(row["seconds"], t["largest_seconds"]), verdict(row["peak_mb"], t["largest_peak_mb"])]
        rows.append((f"Cold, {row['participants']:,} participants / {row['references']:,} references",
                     f"{row['seconds']:.1f} s, peak {row['peak_mb']:,.0f} MB, report {report_mb:.2f} MB",
                     target, "MISSED" if "MISSED" in limits else "met"))
    if "growth_10x" in results:
        rows.append(("Time, 100,000 vs 10,000 participants", f"{results['growth_10x']:.1f}x",
                     f"<= {t['growth_10x']:.0f}x (linear)", verdict(results["growth_10x"], t["growth_10x"])))
    lines = ["| Measure | Result | Target | |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    m = results["machine"]
    lines.append(f"\n{m['date']}, {m['cpus']} cores, Python {m['python']}, commit {m['commit']}; "
                 f"times are medians of {results['repeat']} runs (scale rows: one run each).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.runner.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES),
                        help="participants of the generated cohorts (default 1000 10000 100000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement, median reported (default 3)")
    parser.add_argument("--out", default=str(paths.REPORTS_DIR / "bench.json"), help="where to write the results")
    args = parser.parse_args(argv)
    root = paths.REPORTS_DIR / ".bench"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    try:
        results = bench(args.sizes, max(1, args.repeat), root)
    except RuntimeError as exc:
        print(f"\nERROR: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(root, ignore_errors=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print("\n" + table(results) + f"\n\nWritten to {args.out}")
    for problem in results["problems"]:
        print(f"ERROR: {problem}: the incremental build is broken.", file=sys.stderr)
    return 1 if results["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
