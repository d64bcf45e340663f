"""What a reader sees: the list of published outputs, figures, readings, the reproduction
check, the report page and the index page (templates and published figures alongside).

Imports helpers.analysis and helpers.data; never the build engine or the generator.
"""
