"""Every cohort side by side (`make report-all`): build each report, then reports/index.html.

    python -m helpers.report.index [--raw-dir data/raw] [--jobs 2] [--min-count 0 --round-to 0]

Each cohort folder of raw_dir and the pooled `all` is built by its own
`python -m helpers.build.pipeline` process, two at a time on a 2-core machine; a cohort's
output is printed in one piece when it finishes, so parallel runs stay readable. The
index links every report and compares role-group mix and theme shares, read from the
tables each run wrote.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from helpers.analysis.disclosure import Disclosure
from helpers.data import paths
from helpers.data.params import check_folder
from helpers.data.store import read_table

from . import figures
from .page import embed_png, html_table, is_synthetic, run_time


def build_one(cohort: str, raw_dir: Path, reports_dir: Path, processed_dir: Path,
              rules: Disclosure) -> tuple[str, int, str, float]:
    """Run one cohort's pipeline in its own process; (cohort, exit code, output, seconds)."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "helpers.build.pipeline", "--cohort", cohort, "--raw-dir", str(raw_dir),
         "--processed-dir", str(processed_dir), "--reports-dir", str(reports_dir),
         "--min-count", str(rules.min_count), "--round-to", str(rules.round_to)],
        capture_output=True, text=True)
    return cohort, result.returncode, result.stdout + result.stderr, time.perf_counter() - start


def comparison_tables(reports_dir: Path, cohorts: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(role-group mix, theme shares): one row per category, one column per cohort, n (pct%)."""
    roles, themes = {}, {}
    for cohort in cohorts:
        tables = paths.tables_dir(reports_dir / cohort)
        part = read_table(tables, "participants_by_role.csv").set_index("role_group")
        roles[cohort] = part["n"].astype(str) + " (" + part["pct"].astype(str) + "%)"
        summary = read_table(tables, "theme_summary.csv").set_index("theme")
        themes[cohort] = summary["pct_references"]
    role_table = pd.DataFrame(roles).rename_axis("role group").reset_index()
    theme_table = pd.DataFrame(themes).rename_axis("theme").reset_index()
    return role_table, theme_table


def theme_share_figure(theme_table: pd.DataFrame) -> figures.plt.Figure:
    """Grouped horizontal bars: each theme's share of references, one bar per cohort."""
    plt = figures.plt
    cohorts = [c for c in theme_table.columns if c != "theme"]
    fig, ax = plt.subplots(figsize=(figures.WIDTH_IN, 0.9 * len(theme_table) + 1.5))
    height = 0.8 / max(len(cohorts), 1)
    y = np.arange(len(theme_table))
    for i, cohort in enumerate(cohorts):
        ax.barh(y + i * height, figures.numeric(theme_table[cohort]), height=height,
                color=figures.PALETTE[i % len(figures.PALETTE)], label=cohort)
    ax.set_yticks(y + height * (len(cohorts) - 1) / 2, theme_table["theme"])
    ax.invert_yaxis()
    ax.set_xlabel("Share of the cohort's coded references, %")
    ax.legend(title="Cohort", loc="lower right", fontsize="small")
    ax.grid(axis="y", visible=False)
    return fig


def write_index(reports_dir: Path, raw_dir: Path, cohorts: list[str], built: dict[str, bool],
                rules: Disclosure) -> Path:
    """reports/index.html: links to every cohort's report and the comparison, self-contained."""
    ok = [c for c in cohorts if built.get(c)]
    role_table, theme_table = comparison_tables(reports_dir, ok) if ok else (pd.DataFrame(), pd.DataFrame())
    figure_src = ""
    if ok:
        figures.style()
        saved = figures.save(theme_share_figure(theme_table), reports_dir / "index_figures", "theme_shares")
        figure_src = embed_png(saved[0])
    env = jinja2.Environment(loader=jinja2.PackageLoader("helpers.report", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    html = env.get_template("index.html.j2").render(
        cohorts=[{"name": c, "ok": built.get(c, False), "href": f"{c}/report.html"} for c in cohorts],
        roles=html_table(role_table) if ok else "", themes=html_table(theme_table, tuple(ok)) if ok else "",
        figure=figure_src, generated=run_time().strftime("%Y-%m-%d %H:%M UTC"), disclosure=rules.describe(),
        synthetic=is_synthetic(raw_dir),
    )
    target = reports_dir / "index.html"
    target.write_text(html, encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.report.index", description=__doc__.split("\n")[0])
    parser.add_argument("--raw-dir", default=str(paths.RAW_DIR))
    parser.add_argument("--jobs", type=int, default=2, help="cohorts built at once (default 2)")
    parser.add_argument("--min-count", type=int, default=0)
    parser.add_argument("--round-to", type=int, default=0)
    parser.add_argument("--processed-dir", default=str(paths.PROCESSED_DIR), help=argparse.SUPPRESS)
    parser.add_argument("--reports-dir", default=str(paths.REPORTS_DIR), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    rules = Disclosure(args.min_count, args.round_to)
    raw_dir = check_folder(args.raw_dir, "RAW_DIR")
    reports_dir = check_folder(args.reports_dir, "reports folder")
    processed_dir = check_folder(args.processed_dir, "processed folder")
    cohorts = paths.list_cohorts(raw_dir)
    if not cohorts:
        print(f"ERROR: no cohort folders (with {paths.QUESTIONNAIRE}) in {raw_dir}", file=sys.stderr)
        return 1
    cohorts = cohorts + [paths.POOLED_COHORT]
    print(f"Building {len(cohorts)} reports ({', '.join(cohorts)}), {args.jobs} at a time")
    built: dict[str, bool] = {}
    with ThreadPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        futures = [pool.submit(build_one, c, raw_dir, reports_dir, processed_dir, rules) for c in cohorts]
        for future in futures:
            cohort, code, output, seconds = future.result()
            built[cohort] = code == 0
            print(f"\n== {cohort}: {'ok' if code == 0 else 'FAILED'} in {seconds:.1f} s")
            print(output.rstrip())
    index = write_index(reports_dir, raw_dir, cohorts, built, rules)
    print(f"\nIndex: {index}")
    failed = [c for c, ok in built.items() if not ok]
    if failed:
        print(f"ERROR: {len(failed)} cohort(s) failed: {', '.join(failed)} (their previous reports are unchanged)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
