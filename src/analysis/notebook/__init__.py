"""What a report notebook calls: one `Report` per source file, presentation, charts.

A notebook's imports stay short and stable::

    from analysis.notebook import Report, choose, locate, md, plots, show
"""

from analysis.notebook import plots
from analysis.notebook.report import Report, choose, locate, md, show, unit_groups

__all__ = ["Report", "choose", "locate", "md", "plots", "show", "unit_groups"]
