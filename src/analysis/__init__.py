"""Checked, sourced, unit-aware figures from news reports, published as typeset reports."""

__version__ = "0.1.0"
