"""The report pipeline: the report list, hermetic cached tasks, runners, publishing, rendering.

Runs notebooks through papermill and renders them with nbconvert (HTML) and
pandoc + Typst (PDF). Knows nothing of figures: what a notebook computes reaches it
only as the notebook's outputs and its `figures.json`.
"""
