"""What CI report formats need beyond a finding: the scan root, paths relative to it, and the
source lines (for end columns and fingerprints), read once per file and only for files that
have something to report."""
from __future__ import annotations

import os
from urllib.parse import quote


def scan_root(roots: list[str]) -> str:
    """The directory report paths are relative to.

    The current directory when every scanned path is inside it (the usual CI case: run from the
    repository root, so paths match what GitHub and GitLab expect), otherwise the deepest
    directory holding every scanned path.
    """
    cwd = os.getcwd()
    absolute = [os.path.abspath(p) for p in (roots or ["."])]
    if all(a == cwd or a.startswith(cwd.rstrip(os.sep) + os.sep) for a in absolute):
        return cwd
    dirs = [a if os.path.isdir(a) else os.path.dirname(a) for a in absolute]
    try:
        return os.path.commonpath(dirs)
    except ValueError:  # different drives on Windows: nothing in common
        return cwd


def relative_path(path: str, root: str) -> str:
    """``path`` relative to ``root`` with forward slashes (absolute if it lies outside ``root``)."""
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute, root)
    except ValueError:
        return absolute.replace(os.sep, "/")
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return absolute.replace(os.sep, "/")
    return rel.replace(os.sep, "/")


def uri_reference(rel: str) -> str:
    """A relative path as a URI reference: spaces, ``#``, ``%`` and non-ASCII percent-encoded."""
    return quote(rel, safe="/")


def root_uri(root: str) -> str:
    """``file:///abs/root/`` -- SARIF wants a base URI that ends with a slash."""
    from pathlib import Path

    uri = Path(root).as_uri()
    return uri if uri.endswith("/") else uri + "/"


class SourceCache:
    """Raw bytes and decoded lines of the files a report points into; unreadable files give None."""

    def __init__(self):
        self._raw: dict[str, bytes | None] = {}
        self._lines: dict[str, list[str] | None] = {}

    def raw(self, path: str) -> bytes | None:
        if path not in self._raw:
            try:
                with open(path, "rb") as fh:
                    self._raw[path] = fh.read()
            except OSError:
                self._raw[path] = None
        return self._raw[path]

    def lines(self, path: str) -> list[str] | None:
        if path not in self._lines:
            data = self.raw(path)
            text = None
            if data is not None:
                from ..source import DecodeError, decode

                try:
                    text = decode(data)
                except DecodeError:
                    text = None
            self._lines[path] = text.split("\n") if text is not None else None
        return self._lines[path]

    def finding_lines(self, findings):
        """The source line of each finding, in order, holding one file at a time (findings come
        grouped by path: a big report never keeps every source in memory)."""
        current = None
        for f in findings:
            if f.path != current:
                if current is not None:
                    self.forget(current)
                current = f.path
            yield self.line(f.path, f.line) or ""
        if current is not None:
            self.forget(current)

    def forget(self, path: str) -> None:
        """Drop a file's bytes and lines once the report is done with it."""
        self._raw.pop(path, None)
        self._lines.pop(path, None)

    def line(self, path: str, number: int) -> str | None:
        """Line ``number`` (1-based) as the parsers saw it, or None when unknown."""
        lines = self.lines(path)
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]
