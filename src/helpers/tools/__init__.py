"""Tools that are not part of an analysis run: the synthetic-cohort generator."""
