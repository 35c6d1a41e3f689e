"""gitignore-style patterns: ``.gitignore`` files, and the globs of the configuration.

Written here rather than taken from ``pathspec``: pathspec 1.x costs ~27 ms to import (it pulls
in asyncio through its typing helpers; measured with ``python -X importtime`` after the CLI's
own imports), paid on every run in every git repository, and what we need is one
pattern-to-regex translation plus the rule that the last matching pattern wins.

Semantics follow gitignore(5): blank lines and ``#`` comments are skipped; ``\\#``/``\\!``
escape; trailing unescaped spaces are dropped; ``!`` re-includes; a trailing ``/`` matches
directories only; a pattern with a ``/`` elsewhere is anchored to the file's directory, one
without matches at any depth; ``*`` and ``?`` do not cross ``/``; ``**/``, ``/**`` and ``/**/``
match any number of directories.  A file inside an ignored directory is never reached, because
the walk prunes the directory (git's "cannot re-include below an excluded parent" rule).
"""
from __future__ import annotations

import os
import re


def _translate(pat: str) -> str:
    out = []
    i, n = 0, len(pat)
    while i < n:
        c = pat[i]
        if c == "*":
            if pat.startswith("**", i):
                before_ok = i == 0 or pat[i - 1] == "/"
                after = pat[i + 2:i + 3]
                if before_ok and after == "/":
                    out.append("(?:.*/)?")
                    i += 3
                    continue
                if before_ok and after == "":
                    out.append(".*")
                    i += 2
                    continue
                out.append("[^/]*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pat.find("]", i + 2 if pat.startswith(("[!", "[^"), i) else i + 1)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = pat[i + 1:j]
                neg = body[:1] in ("!", "^")
                if neg:
                    body = body[1:]
                body = body.replace("\\", "\\\\")
                out.append(f"[{'^' if neg else ''}{body}]")
                i = j
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pat[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


class Pattern:
    __slots__ = ("regex", "negate", "dir_only", "text")

    def __init__(self, text: str):
        self.text = text
        self.negate = False
        if text.startswith("!"):
            self.negate, text = True, text[1:]
        elif text.startswith("\\!") or text.startswith("\\#"):
            text = text[1:]
        self.dir_only = text.endswith("/")
        text = text.rstrip("/")
        anchored = "/" in text
        text = text.lstrip("/")
        rx = _translate(text)
        if not anchored:
            rx = "(?:.*/)?" + rx
        self.regex = re.compile(rx + r"\Z", re.DOTALL)

    def match(self, rel: str, is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        return self.regex.match(rel) is not None


def parse_lines(lines) -> list[Pattern]:
    out = []
    for raw in lines:
        line = raw.rstrip("\n").rstrip("\r")
        # trailing spaces are dropped unless escaped with a backslash
        stripped = line.rstrip(" ")
        if stripped.endswith("\\") and len(stripped) < len(line):
            stripped += " "
        if not stripped or stripped.startswith("#"):
            continue
        out.append(Pattern(stripped))
    return out


class PatternSet:
    """Patterns relative to one directory; the last match decides."""

    def __init__(self, base: str, patterns: list[Pattern]):
        self.base = base
        self.patterns = patterns

    def decide(self, rel: str, is_dir: bool):
        """True (ignored), False (re-included) or None (no pattern matched)."""
        verdict = None
        for p in self.patterns:
            if p.match(rel, is_dir):
                verdict = not p.negate
        return verdict

    def matches(self, rel: str, is_dir: bool = False) -> bool:
        return bool(self.decide(rel, is_dir))

    def matches_path(self, rel: str) -> bool:
        """A file matches when it or a directory above it does (``legacy/`` covers ``legacy/a/x.yaml``)."""
        parts = rel.split("/")
        for i in range(1, len(parts)):
            if self.decide("/".join(parts[:i]), True):
                return True
        return self.matches(rel)


def find_repo_root(start: str) -> str | None:
    d = os.path.abspath(start)
    if not os.path.isdir(d):
        d = os.path.dirname(d)
    while True:
        if os.path.exists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


class GitIgnore:
    """``is_ignored(path, is_dir)`` for linter.discover: .git/info/exclude, then every .gitignore
    from the repository root down to the path's directory (deeper files win)."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        self._cache: dict[str, PatternSet | None] = {}
        self._by_dir: dict[str, list] = {}
        self._prefix = self.root + os.sep
        exclude = os.path.join(self.root, ".git", "info", "exclude")
        self._info = self._load(exclude, self.root)

    @staticmethod
    def _load(path: str, base: str) -> PatternSet | None:
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                patterns = parse_lines(fh)
        except OSError:
            return None
        return PatternSet(base, patterns) if patterns else None

    def _dir_set(self, d: str) -> PatternSet | None:
        if d not in self._cache:
            self._cache[d] = self._load(os.path.join(d, ".gitignore"), d)
        return self._cache[d]

    def _sets_for(self, d: str) -> list:
        """The pattern sets that apply to entries of directory ``d`` (inside the root), outermost
        first; computed once per directory, as a walk asks for every entry of it."""
        got = self._by_dir.get(d)
        if got is None:
            if d == self.root:
                got = [self._info] if self._info else []
            else:
                got = self._sets_for(os.path.dirname(d))
            own = self._dir_set(d)
            if own is not None:
                got = got + [own]
            self._by_dir[d] = got
        return got

    def __call__(self, path: str, is_dir: bool) -> bool:
        ap = os.path.abspath(path)
        if ap == self.root:
            sets = [self._info] if self._info else []
        elif ap.startswith(self._prefix):
            sets = self._sets_for(os.path.dirname(ap))
        else:
            return False
        verdict = None
        for s in sets:
            base = s.base
            rel = ap[len(base) + 1:] if ap.startswith(base + os.sep) else os.path.relpath(ap, base)
            v = s.decide(rel.replace(os.sep, "/"), is_dir)
            if v is not None:
                verdict = v
        return bool(verdict)
