"""The study's analysis: cleaning rules, tallies, statistics, agreement, co-occurrence,
saturation, disclosure control, and the tables notebooks 01-03 publish.

Imports only helpers.data; never the report, the build engine or the generator.
"""
