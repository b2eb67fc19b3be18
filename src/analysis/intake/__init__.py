"""Intake: read an article (text, Markdown or HTML), find its quantities, draft a source file.

`extract` finds quantities in plain text; `article` reads files, drafts and compares a
source file with its article. Uses the figures engine for units and qualifiers.
"""
