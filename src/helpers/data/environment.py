"""Environment variables that change what the pipeline writes.

Kept in a module of their own, importing nothing, so that the build's fingerprints
(helpers.runner.steps) can name them without importing the modules that read them, which
import pandas.
"""
PSEUDONYM_KEY_ENV = "NHSDA_PSEUDONYM_KEY"  # the secret for participant pseudonyms (helpers.data.privacy)
DATE_ENV = "SOURCE_DATE_EPOCH"  # fixes the report's date for reproducible builds (helpers.report.page)
