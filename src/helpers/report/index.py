"""reports/index.html: every cohort's report side by side (`make report-all`).

helpers.runner.pipeline.run_all builds each cohort's report and then calls write_index. The
index lists each report with its participants, sources, reproduction-check verdict and build
date, links the report and its PDF (when one was printed), and compares role-group mix and
theme shares, all read from the files each run wrote.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

# Only light imports here: the runner imports this module after its runs, and each function
# imports pandas, matplotlib and the report's modules when it needs them.
from helpers.data import paths

PAGE = "index.html"
FIGURES = "index_figures"   # the index's figure files, beside it
FIGURE = "theme_shares"

if TYPE_CHECKING:
    import pandas as pd

    from helpers.analysis.disclosure import Disclosure


def published_reports(reports_dir: Path, cohorts: list[str] = ()) -> list[str]:
    """Every report folder published in reports/ (cohort1, cohort1-min7-round5, ...): those of
    `cohorts` first, in that order, then any others; each cohort's full report before its
    controlled ones."""
    from helpers.data import plan

    reports_dir = Path(reports_dir)
    found = [p.name for p in reports_dir.iterdir()
             if not p.name.startswith(("_", ".")) and (p / "report.html").is_file()] if reports_dir.is_dir() else []

    def order(name: str) -> tuple:
        cohort, min_count, round_to = plan.settings_of(name)
        return (list(cohorts).index(cohort) if cohort in cohorts else len(cohorts), cohort, min_count, round_to)

    return sorted(found, key=order)


def sharing(name: str) -> tuple[bool, str]:
    """(shareable, what the index says of it) for a report folder, from the settings in its name."""
    from helpers.data import plan

    _, min_count, round_to = plan.settings_of(name)
    if not (min_count > 0 or round_to > 1):
        return False, "off: every count as computed; for the study team, not for sharing"
    parts = ([f"counts of {min_count} or fewer redacted"] if min_count > 0 else []) + \
        ([f"others rounded to the nearest {round_to}"] if round_to > 1 else [])
    return True, "on: " + ", ".join(parts) + "; shareable"


def summary(reports_dir: Path, cohort: str) -> dict:
    """One report's line of the index (`cohort`: its folder): n, sources, check verdict, build
    date, disclosure control, links."""
    import pandas as pd

    from helpers.data.store import read_table

    from . import repro
    out = reports_dir / cohort
    totals = read_table(paths.tables_dir(out), "totals.csv").set_index("measure")["n"].astype(str)
    check = pd.read_csv(paths.tables_dir(out) / "reproduction_check.csv", dtype=str, keep_default_na=False)
    verdict = repro.verdict(check)
    if not len(check):
        text = "no published figures to compare"
    else:
        text = (f"{verdict[repro.EXACT]} exact, {verdict[repro.ASSUMED]} under an assumption, "
                f"{verdict[repro.DIFFERS]} differ" + (f", {verdict[repro.REDACTED_STATUS]} redacted"
                                                    if verdict[repro.REDACTED_STATUS] else ""))
    built = pd.Timestamp((out / "report.html").stat().st_mtime, unit="s", tz="UTC")
    shareable, control = sharing(cohort)
    if shareable and verdict[repro.DIFFERS]:  # rounded and redacted counts cannot match the papers' exact ones
        text += " (expected: disclosure control rounds and redacts the counts)"
    return {"name": cohort, "ok": True, "href": f"{cohort}/report.html", "shareable": shareable, "control": control,
            "pdf": f"{cohort}/report.pdf" if (out / "report.pdf").is_file() else "",
            "participants": totals.get("participants", ""), "sources": totals.get("sources", ""),
            "verdict": text, "differs": bool(verdict[repro.DIFFERS]) and not shareable,
            "built": built.strftime("%Y-%m-%d %H:%M UTC")}


def comparison_tables(reports_dir: Path, cohorts: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(role-group mix, theme shares): one row per category, one column per cohort, n (pct%)."""
    import pandas as pd

    from helpers.data.store import read_table

    from . import tables as pub
    roles, themes = {}, {}
    for cohort in cohorts:
        tables = paths.tables_dir(reports_dir / cohort)
        part = read_table(tables, "participants_by_role.csv").set_index("role_group")
        roles[cohort] = [pub.n_pct(n, pct) for n, pct in zip(part["n"], part["pct"])]
        summary = read_table(tables, "theme_summary.csv").set_index("theme")
        themes[cohort] = summary["pct_references"]
    role_table = pd.DataFrame(roles, index=part.index).rename_axis("role group").reset_index()
    theme_table = pd.DataFrame(themes).rename_axis("theme").reset_index()
    return role_table, theme_table


def theme_share_figure(theme_table: pd.DataFrame):
    """Grouped horizontal bars (a matplotlib Figure): each theme's share of references, one bar per cohort."""
    import numpy as np

    from . import figures

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
    import tempfile

    import jinja2
    import pandas as pd

    from helpers.data import plan, safe_write

    from . import figures
    from . import tables as pub
    from .page import embed_png, is_synthetic, run_time

    # This run's reports, compared side by side, by the folder their settings publish to.
    folder = {c: plan.published_name(c, rules.min_count, rules.round_to) for c in cohorts}
    ok = [c for c in cohorts if built.get(c)]
    role_table, theme_table = (comparison_tables(reports_dir, [folder[c] for c in ok]) if ok
                               else (pd.DataFrame(), pd.DataFrame()))
    if ok:  # columns named by cohort, as the caption says
        names = {folder[c]: c for c in ok}
        role_table, theme_table = role_table.rename(columns=names), theme_table.rename(columns=names)
    figure_src = ""
    check_targets(reports_dir)
    if ok:
        figures.style()
        # Drawn in a folder of its own, then each file put in place without following a link.
        with tempfile.TemporaryDirectory(prefix="nhsda-index-") as scratch:
            for drawn in figures.save(theme_share_figure(theme_table), Path(scratch), FIGURE):
                safe_write.copy_file(drawn, reports_dir / FIGURES / drawn.name, reports_dir)
        figure_src = embed_png(reports_dir / FIGURES / f"{FIGURE}.png")
    env = jinja2.Environment(loader=jinja2.PackageLoader("helpers.report", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    def table(number: str, title: str, caption: str, frame: pd.DataFrame) -> str:
        rows = [pub.Row([pub.group_label(str(r.iloc[0]))] + [str(v) if not isinstance(v, float) else pub.decimal1(v)
                                                          for v in r.iloc[1:]]) for _, r in frame.iterrows()]
        return pub.Table(number, title, caption, [str(c).capitalize() if i == 0 else str(c)
                                                  for i, c in enumerate(frame.columns)], rows).html()

    html = env.get_template("index.html.j2").render(
        # Every published report, this run's and those of other settings, so that the full and
        # the shareable report of a cohort are listed side by side; a failed run's row says so.
        cohorts=[summary(reports_dir, name) for name in published_reports(reports_dir, cohorts)
                 if name not in [folder[c] for c in cohorts if not built.get(c)]]
        + [{"name": folder[c], "ok": False} for c in cohorts if not built.get(c)],
        roles=table("1", "Role-group mix", "Participants analysed per role group in each cohort: n (% of the cohort).",
                    role_table) if ok else "",
        themes=table("2", "Theme shares", "Each theme's share of the cohort's coded references, %.",
                     theme_table) if ok else "",
        figure=figure_src, generated=run_time().strftime("%Y-%m-%d %H:%M UTC"), disclosure=rules.describe(),
        synthetic=is_synthetic(raw_dir),
    )
    return safe_write.write_text(reports_dir / PAGE, html, reports_dir)


def targets(reports_dir: Path) -> list[Path]:
    """Every path write_index writes in reports_dir."""
    return [reports_dir / PAGE, reports_dir / FIGURES] + [reports_dir / FIGURES / f"{FIGURE}.{ext}"
                                                          for ext in ("png", "svg")]


def check_targets(reports_dir: Path) -> None:
    """Refuse (safe_write.LinkRefused, naming each link) if the index would be written through a
    symbolic link: `make report-all` checks this before it builds any cohort."""
    from helpers.data import safe_write

    links = sorted({link for path in targets(Path(reports_dir)) for link in safe_write.links_on(path, reports_dir)})
    if links:
        raise safe_write.LinkRefused(safe_write.refusal(links, f"write the index {Path(reports_dir) / PAGE}"))
