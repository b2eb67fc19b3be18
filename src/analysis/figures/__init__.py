"""The figures engine: units, bounds, source files, formulas, derived figures, the self-audit.

Pure Python on pint and PyYAML; imports nothing from the notebook helpers, intake or the
report pipeline, so the CLI's light commands (`check`, `figures`) never load Jupyter.
"""
