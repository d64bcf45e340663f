"""Executed notebooks rendered for reading: self-contained HTML beside each .ipynb.

nbconvert's body-only template ("basic"): no require.js, MathJax or fonts fetched from a
CDN; any script removed; the page carries the report's content security policy (no script
may run, nothing may load from another host), so a reviewer can read each step, its code
and its outputs, without Jupyter. Outputs are not sanitized by nbconvert, which would show
the notebooks' own markdown and pandas tables as escaped tags: the data in them are already
escaped by pandas. The project's folder is shown as `<project>`, not as a machine path.
"""
from __future__ import annotations

import re
from html import escape
from pathlib import Path

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.5; color: #1a1a1a;
       max-width: 70rem; margin: 0 auto; padding: 1rem; }
.jp-Cell { margin: .8rem 0; max-width: 100%; overflow-x: auto; } .jp-InputPrompt, .jp-OutputPrompt { display: none; }
.jp-CodeCell .jp-InputArea { background: #f6f8fa; border-left: 3px solid #0072B2; padding: .2rem .6rem;
                             overflow-x: auto; }
.jp-OutputArea { overflow-x: auto; padding: .2rem .6rem; }
pre { margin: .2rem 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.jp-OutputArea-output, .output_subarea, .input_area { display: block; max-width: 100%; overflow-x: auto; }
.cell { margin: .8rem 0; } .input_area { background: #f6f8fa; border-left: 3px solid #0072B2; padding: .2rem .6rem; }
table { border-collapse: collapse; font-size: .85rem; } th, td { border-bottom: 1px solid #ddd; padding: .2rem .5rem; }
img { max-width: 100%; height: auto; }
.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"] { background: #fdd; }
"""
SCRIPT = re.compile(r"<(script|iframe)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def warm() -> None:
    """Import nbconvert and compile its templates once (1.5 to 2 s), so that the first render of a
    run does not wait for them: the runner calls this in a thread while the first kernel starts."""
    import nbformat

    _exporter().from_notebook_node(nbformat.v4.new_notebook())


def _exporter():
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="basic", exclude_input_prompt=True, exclude_output_prompt=True)


def render(notebook: Path) -> Path:
    """Write notebook.html beside the executed notebook; return its path."""
    from pygments.formatters import HtmlFormatter

    from helpers.data import paths

    body, _ = _exporter().from_filename(str(notebook))
    body = SCRIPT.sub("", body)  # the policy would block them anyway; a reader's copy has none
    body = body.replace(str(paths.PROJECT_ROOT.resolve()), "&lt;project&gt;")
    # Wide outputs scroll within the page; a keyboard must reach them (WCAG 2.1.1).
    body = re.sub(r'<div class="([^"]*\boutput_subarea\b[^"]*)"', r'<div tabindex="0" class="\1"', body)
    title = f"Executed notebook {Path(notebook).stem}"
    page = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n<title>{escape(title)}</title>\n'
            f'<style>{STYLE}{HtmlFormatter().get_style_defs(".highlight")}</style>\n</head>\n<body>\n'
            f'<header><p><a href="../report.html">Back to the report</a> &middot; {escape(Path(notebook).name)} as it '
            f'ran</p></header>\n<main>\n{body}\n</main>\n</body>\n</html>\n')
    target = Path(notebook).with_suffix(".html")
    target.write_text(page, encoding="utf-8")
    return target
