"""Run one function step of the plan in a process of its own (the runner starts this).

    python -m helpers.runner.tasks helpers.report.pdf:step <folder> <cohort> <min_count> <round_to>

`folder` is the step's staging copy of reports/<cohort>/, holding the files the step reads;
the function writes its outputs there. An error is printed as its last line, 'Name: message',
which the runner shows as it shows a failed notebook's error.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    function, folder, cohort, min_count, round_to = sys.argv[1:] if argv is None else argv
    from helpers.analysis.disclosure import Disclosure
    from helpers.data.params import whole_number_setting

    module, _, name = function.partition(":")
    try:
        # The settings parsed as the runner's command line parses them: -3 or 7.5 refused, by name.
        rules = Disclosure(whole_number_setting("min_count")(min_count), whole_number_setting("round_to")(round_to))
        getattr(importlib.import_module(module), name)(Path(folder), cohort, rules)
    except Exception as exc:  # noqa: BLE001 - every error is reported the same way, in one line
        print(f"{type(exc).__name__}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
