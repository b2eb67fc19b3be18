"""One error style: every public error in analysis.errors, one message shape, one exit code map."""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil

import pytest

import analysis
from analysis import errors
from analysis.errors import (
    AnalysisError,
    FormulaError,
    IntakeError,
    LockTimeout,
    ParameterError,
    ProjectError,
    RenderError,
    ReportListError,
    SourceError,
    UnknownUnit,
    UsageError,
    describe,
    exit_code,
)


def _modules():
    importlib.import_module("papermill")  # it loads reports.engine itself (see engine.py)
    for info in pkgutil.walk_packages(analysis.__path__, "analysis."):
        if info.name != "analysis.__main__":  # importing it runs the CLI
            yield importlib.import_module(info.name)


def test_every_public_error_class_lives_in_errors_under_the_one_base():
    found = set()
    for module in _modules():
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseException)
                    and obj.__module__.startswith("analysis") and not name.startswith("_")):
                found.add(obj)
                assert obj.__module__ == "analysis.errors", f"{module.__name__}.{name}"
                assert issubclass(obj, AnalysisError), f"{module.__name__}.{name}"
    assert {RenderError, UnknownUnit, ReportListError, ParameterError, LockTimeout,
            ProjectError} <= found


def test_the_other_modules_still_export_the_names_they_used_to():
    from analysis.figures import units
    from analysis.reports import build, render, reportlist

    assert units.UnknownUnit is UnknownUnit and render.RenderError is RenderError
    assert reportlist.ReportListError is ReportListError
    assert build.LockTimeout is LockTimeout and build.ProjectError is ProjectError


def test_the_one_message_shape():
    assert describe("a.yaml, line 3", "no figures", "add one under figures:") == (
        "a.yaml, line 3: no figures. Add one under figures:.")
    # a trailing full stop is never doubled; a question keeps its mark
    assert describe("a.yaml", "no figures.", "did you mean 'b'?") == (
        "a.yaml: no figures. Did you mean 'b'?")
    assert describe(None, "it is wrong") == "it is wrong."


@pytest.mark.parametrize("error, message", [
    (SourceError("s.yaml", "bad value", line=4, figure="area", field="unit", fix="use km²"),
     "s.yaml, line 4: figure 'area', field 'unit': bad value. Use km²."),
    (SourceError("s.yaml", "missing 'source'", field="source"),
     "s.yaml: field 'source': missing 'source'."),
    (IntakeError("a.txt", "the file is empty", "save the text into it"),
     "a.txt: the file is empty. Save the text into it."),
    (ReportListError("reports.yaml", "no notebook at x.ipynb", "'r'", "notebook"),
     "reports.yaml, report 'r', field 'notebook': no notebook at x.ipynb."),
    (ParameterError("r", "area_unit", "expected str"),
     "report 'r', parameter 'area_unit': expected str."),
    (FormulaError("a ** b", "** is not allowed; use + - * /"),
     "formula 'a ** b': ** is not allowed; use + - * /."),
    (UnknownUnit("parsecs", ("day", "km")),
     "unknown unit 'parsecs'; use one of day, km (or a ratio of two of them, "
     "such as 'troops / month')."),
    # a plain error keeps the message it was given, word for word
    (UsageError("-p 'x': expected key=value"), "-p 'x': expected key=value"),
])
def test_each_error_formats_through_describe(error, message):
    assert str(error) == message


@pytest.mark.parametrize("error, code", [
    (SourceError("s.yaml", "bad"), 1),
    (IntakeError("a.txt", "empty"), 1),
    (FormulaError("a", "bad"), 1),
    (UnknownUnit("x"), 1),
    (RenderError("paper"), 1),
    (AnalysisError("bad"), 1),
    (UsageError("bad"), 2),
    (ReportListError("reports.yaml", "bad"), 2),
    (ParameterError("r", "p", "bad"), 2),
    (ProjectError("no reports.yaml"), 2),
    (LockTimeout("busy"), 2),
])
def test_one_map_from_error_to_exit_code(error, code):
    assert exit_code(error) == code == error.exit_code
    assert code == (errors.USAGE_ERROR if isinstance(error, UsageError) else errors.INPUT_ERROR)


@pytest.mark.parametrize("error", [
    SourceError("s.yaml", "bad", line=4, figure="area", field="unit", fix="use km²"),
    ReportListError("reports.yaml", "bad", "'r'", "notebook"),
    UnknownUnit("parsecs", ("day",)),
    IntakeError("a.txt", "the file is empty", "save the text into it"),
    UsageError("plain"),
])
def test_errors_survive_a_process_boundary(error):
    # a process pool or a Dask worker sends errors back pickled
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error) and str(back) == str(error)
