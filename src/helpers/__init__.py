"""Helpers for the NHS Digital Academy evaluation pipeline (load, clean, tally, figures, report)."""

__version__ = "0.1.0"
