"""The raw-data contract and its input/output: paths, errors, reading and checking the raw
files, the tables handed from step to step, participant privacy.

The bottom layer: imports no other part of helpers.
"""
