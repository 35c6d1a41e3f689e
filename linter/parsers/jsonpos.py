"""JSON with source positions, in the shape linter.yamlload produces for YAML.

Used for ``.tf.json`` files and for JSON written inside Terraform strings (ECS container
definitions in heredocs).  The stdlib ``json`` module gives no positions; this is a small
recursive-descent parser that reuses the stdlib's string and number scanners, so values are
exactly what ``json.loads`` returns.  ``PosDict``/``PosList`` duck-type linter.yamlload's
classes (the Kubernetes object mapper only reads ``.pos``/``.line``/``.col``/``.end_line``)
without importing PyYAML on a Terraform-only scan.
"""
from __future__ import annotations

import bisect
import re
import json.decoder
import json.scanner

MAX_DEPTH = 200


class PosDict(dict):
    """``pos[key] = (key_line, key_col, key_end_col, value_line, value_col, value_end_line,
    value_end_col)``; ``refs`` holds the keys whose value was written as a reference (Terraform)."""

    __slots__ = ("pos", "line", "col", "end_line", "refs", "origin")

    def __init__(self, *args, line: int = 1, col: int = 1, end_line: int = 0, origin=None):
        super().__init__(*args)
        self.pos = {}
        self.refs = set()
        self.line, self.col, self.end_line = line, col, end_line or line
        #: the file the positions refer to, when it may differ from the file being mapped
        self.origin = origin


class PosList(list):
    """``pos[i] = (line, col, end_line, end_col)``; ``refs`` holds indexes written as references."""

    __slots__ = ("pos", "line", "col", "refs", "origin")

    def __init__(self, *args, line: int = 1, col: int = 1, origin=None):
        super().__init__(*args)
        self.pos = []
        self.refs = set()
        self.line, self.col = line, col
        self.origin = origin


class JsonError(Exception):
    def __init__(self, message: str, line: int, column: int):
        super().__init__(f"{message} (line {line}, column {column})")
        self.message, self.line, self.column = message, line, column


_WS = " \t\n\r"
_NEWLINE = re.compile("\n")
_CONSTANTS = {"true": True, "false": False, "null": None}


def loads(text: str, line_offset: int = 0, col_offset: int = 0):
    """Parse ``text``; positions are shifted by ``line_offset`` lines (and ``col_offset`` columns,
    for JSON embedded in an indented heredoc)."""
    return _Parser(text, line_offset, col_offset).document()


class _Parser:
    def __init__(self, text: str, line_offset: int, col_offset: int):
        self.s = text
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
        self.line_offset = line_offset
        self.col_offset = col_offset

    def lc(self, i: int) -> tuple[int, int]:
        k = bisect.bisect_right(self.starts, i) - 1
        return k + 1 + self.line_offset, i - self.starts[k] + 1 + self.col_offset

    def fail(self, message: str, i: int):
        line, col = self.lc(min(i, len(self.s)))
        raise JsonError(message, line, col)

    def ws(self, i: int) -> int:
        s, n = self.s, len(self.s)
        while i < n and s[i] in _WS:
            i += 1
        return i

    def document(self):
        i = self.ws(0)
        if i >= len(self.s):
            self.fail("empty document", i)
        value, i = self.value(i, 0)
        i = self.ws(i)
        if i < len(self.s):
            self.fail("extra data after the JSON value", i)
        return value

    def value(self, i: int, depth: int):
        if depth > MAX_DEPTH:
            self.fail(f"nested more than {MAX_DEPTH} levels", i)
        s = self.s
        if i >= len(s):
            self.fail("unexpected end of input", i)
        c = s[i]
        if c == "{":
            return self.obj(i, depth)
        if c == "[":
            return self.arr(i, depth)
        if c == '"':
            return self.string(i)
        for word, v in _CONSTANTS.items():
            if s.startswith(word, i):
                return v, i + len(word)
        m = json.scanner.NUMBER_RE.match(s, i)
        if m:
            integer, frac, exp = m.groups()
            if frac or exp:
                return float(integer + (frac or "") + (exp or "")), m.end()
            return int(integer), m.end()
        self.fail(f"unexpected character {c!r}", i)

    def string(self, i: int):
        try:
            return json.decoder.scanstring(self.s, i + 1, True)
        except json.JSONDecodeError as exc:
            self.fail(exc.msg, exc.pos)

    def obj(self, i: int, depth: int):
        line, col = self.lc(i)
        d = PosDict(line=line, col=col)
        i = self.ws(i + 1)
        if i < len(self.s) and self.s[i] == "}":
            d.end_line = self.lc(i)[0]
            return d, i + 1
        while True:
            if i >= len(self.s) or self.s[i] != '"':
                self.fail("expected a key in double quotes", i)
            kl, kc = self.lc(i)
            key, j = self.string(i)
            kec = self.lc(j)[1]
            j = self.ws(j)
            if j >= len(self.s) or self.s[j] != ":":
                self.fail("expected ':' after a key", j)
            j = self.ws(j + 1)
            vl, vc = self.lc(j)
            value, j = self.value(j, depth + 1)
            vel, vec = self.lc(j)
            d[key] = value
            d.pos[key] = (kl, kc, kec, vl, vc, vel, vec)
            j = self.ws(j)
            if j < len(self.s) and self.s[j] == ",":
                i = self.ws(j + 1)
                continue
            if j < len(self.s) and self.s[j] == "}":
                d.end_line = self.lc(j)[0]
                return d, j + 1
            self.fail("expected ',' or '}'", j)

    def arr(self, i: int, depth: int):
        line, col = self.lc(i)
        lst = PosList(line=line, col=col)
        i = self.ws(i + 1)
        if i < len(self.s) and self.s[i] == "]":
            return lst, i + 1
        while True:
            sl, sc = self.lc(i)
            value, j = self.value(i, depth + 1)
            el, ec = self.lc(j)
            lst.append(value)
            lst.pos.append((sl, sc, el, ec))
            j = self.ws(j)
            if j < len(self.s) and self.s[j] == ",":
                i = self.ws(j + 1)
                continue
            if j < len(self.s) and self.s[j] == "]":
                return lst, j + 1
            self.fail("expected ',' or ']'", j)
