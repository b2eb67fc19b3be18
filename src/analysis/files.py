"""Files every room shares: the one atomic writer, reading an untrusted file with limits,
and the one project root.

A reader (a browser, a web server, a second build) never sees a half-written file:
the data goes to a temporary file in the same folder, is flushed to disk and renamed
into place.

The project root is the folder holding `reports.yaml`. Every path in the project (a
report list entry, a notebook's input-file parameter) is relative to it: the build
finds it from where the command runs, a notebook from where its kernel runs.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from pathlib import Path

from analysis.errors import LimitError

#: the report list; the folder holding it is the project root
PROJECT_FILE = "reports.yaml"


def project_root(start: Path | str | None = None) -> Path | None:
    """The nearest folder, from `start` (default: the working folder) up, that holds
    reports.yaml; None outside a project."""
    start = Path(start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    return None


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- reading an untrusted file, with limits ----------------------------------------------

#: the largest source file or report list read (a real one is a few KB)
MAX_FILE_BYTES = 1_000_000
#: how deep YAML mappings and lists may nest (a real file nests four or five deep)
MAX_YAML_DEPTH = 40


def read_capped(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """A file's bytes, or LimitError past `limit`: reads at most limit + 1 bytes, so a
    device such as /dev/zero or a huge file cannot hang or exhaust memory."""
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise LimitError(f"is larger than {limit:,} bytes",
                         "a source file is a few kilobytes; check that this is the right file")
    return data


class LimitedComposer:
    """Mix into a yaml Loader: no aliases (a few lines of `*a` can expand into billions
    of nodes) and no nesting deeper than MAX_YAML_DEPTH (Python's recursion limit)."""

    _depth = 0

    def compose_node(self, parent, index):
        import yaml  # only the readers of YAML pay for it

        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise LimitError("uses a YAML alias (*name)",
                             "write the value out in full; aliases are not read",
                             mark.line + 1)
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise LimitError(f"nests more than {MAX_YAML_DEPTH} levels deep",
                                 "flatten it; a source file needs four or five levels",
                                 mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


@functools.cache
def limited_safe_loader(fast: bool = True) -> type:
    """A safe YAML Loader class with LimitedComposer's limits, to subclass; read with it
    through `load_limited`.

    With `fast` and a PyYAML built with libyaml, libyaml scans and parses the text in C:
    about 8x faster than PyYAML's own scanner (4 ms, not 30, for a source file, which
    every report's kernel reads). The composer that builds the nodes, and so checks the
    limits on each event, and the safe constructor stay PyYAML's Python ones either way.
    """
    from yaml.composer import Composer
    from yaml.constructor import SafeConstructor
    from yaml.resolver import Resolver

    parser = None
    if fast:
        try:
            from yaml.cyaml import CParser as parser
        except ImportError:  # a PyYAML built without libyaml
            pass
    if parser is None:
        from yaml import SafeLoader

        class Loader(LimitedComposer, SafeLoader):
            pass
    else:
        # the composer comes before CParser, whose own (C) composer knows no limits
        class Loader(LimitedComposer, Composer, parser, SafeConstructor, Resolver):
            def __init__(self, stream):
                parser.__init__(self, stream)
                Composer.__init__(self)
                SafeConstructor.__init__(self)
                Resolver.__init__(self)
    return Loader


def load_limited(text: str, loader: type):
    """`yaml.load(text, Loader=loader)`, for a subclass of `limited_safe_loader()`.

    libyaml's errors say less than PyYAML's ("found character that cannot start any
    token", where PyYAML names the tab), so text that libyaml refuses is read again by
    PyYAML's own parser, with the same constructors, for PyYAML's message (or, in the
    odd case PyYAML reads it, its result, as before libyaml was used)."""
    import yaml

    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeConstructor loader
    except yaml.YAMLError:
        if not issubclass(loader, limited_safe_loader()):
            raise
        return yaml.load(text, Loader=_python_twin(loader))  # noqa: S506


@functools.cache
def _python_twin(loader: type) -> type:
    # the same class (its constructors, resolvers and methods) on PyYAML's Python parser
    own = {k: v for k, v in vars(loader).items() if k not in ("__dict__", "__weakref__")}
    own.setdefault("yaml_constructors", loader.yaml_constructors)
    own.setdefault("yaml_implicit_resolvers", loader.yaml_implicit_resolvers)
    return type(f"{loader.__name__}Python", (limited_safe_loader(fast=False),), own)
