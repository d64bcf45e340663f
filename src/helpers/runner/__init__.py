"""The build engine behind `make report`: steps and their fingerprints, the runner, the benchmark.

The top layer: nothing in the analysis or the report imports it.
"""
