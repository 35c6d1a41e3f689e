"""The Dockerfile parser's fast paths must give what its general paths give.

* the word splitter and the lexer skip runs of ordinary characters with a regex instead of a
  Python step per character: checked against character-by-character reference versions (the
  parser's earlier code) on strings made of the characters they treat specially;
* a word with no quote, ``$`` or escape character is its own value (``_plain``): whole files are
  parsed with and without that shortcut;
* a continued line ending exactly in the escape character is taken as is, one with spaces or
  tabs after the escape goes through the general trim: the same file written both ways must give
  the same model, locations included (the column map of a continued instruction is built lazily
  from the lines, so this also checks that map).
"""
from __future__ import annotations

import random
from bisect import bisect_right

import pytest
from hypothesis import given, settings, strategies as st

from linter.model import UNKNOWN, Location, Resource
from linter.parsers import dockerfile as D

ALPHABET = ["a", "B", "_", "1", " ", "\t", "\u00a0", "\x1c", "'", '"', "\\", "`", "$", "{", "}", ":", "-",
            "+", "?", "#", "%", "/", "=", "${", "$A", "${A}", "${B:-", "<<"]


# -- reference versions: one Python step per character ----------------------------------------

def ref_words(s: str, base: int, esc: str, quotes: bool = True) -> list[tuple[str, int, int]]:
    out = []
    i, n = 0, len(s)
    while i < n:
        while i < n and s[i].isspace():
            i += 1
        if i >= n:
            break
        st_ = i
        q = None
        while i < n:
            c = s[i]
            if q:
                if c == q:
                    q = None
                elif c == esc and q != "'" and i + 1 < n:
                    i += 1
            elif c.isspace():
                break
            elif quotes and c in "'\"":
                q = c
            elif quotes and c == esc and i + 1 < n:
                i += 1
            i += 1
        out.append((s[st_:i], base + st_, base + i))
    return out


class RefLex(D._Lex):
    def word(self, stop=None):
        s, esc = self.s, self.esc
        out = []
        while self.i < len(s):
            c = s[self.i]
            if c == stop:
                break
            if c == "'":
                j = s.find("'", self.i + 1)
                j = len(s) if j < 0 else j
                out.append(s[self.i + 1:j])
                self.i = j + 1
            elif c == '"':
                self.i += 1
                out.append(self._dquote())
            elif c == "$":
                out.append(self.dollar())
            elif c == esc:
                out.append(s[self.i + 1:self.i + 2])
                self.i += 2
            else:
                out.append(c)
                self.i += 1
        return "".join(out)

    def _dquote(self):
        s, esc = self.s, self.esc
        out = []
        while self.i < len(s):
            c = s[self.i]
            if c == '"':
                self.i += 1
                break
            if c == "$":
                out.append(self.dollar())
                continue
            if c == esc and self.i + 1 < len(s) and s[self.i + 1] in ('"', "$", esc):
                out.append(s[self.i + 1])
                self.i += 2
                continue
            out.append(c)
            self.i += 1
        return "".join(out)


VALUES = {"A": "va", "B": "", "C": UNKNOWN}


def lookup(name):
    return VALUES.get(name)  # None: unset


def _state(cls, s, esc, lk, stop):
    lex = cls(s, esc, lk)
    return lex.word(stop), lex.i, lex.unknown, lex.last


texts = st.lists(st.sampled_from(ALPHABET), max_size=16).map("".join)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(texts)
def test_word_splitting_matches_the_per_character_scan(s):
    for esc in ("\\", "`", ""):
        for quotes in (True, False):
            assert D._words(s, 3, esc, quotes) == ref_words(s, 3, esc, quotes), (s, esc, quotes)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(texts)
def test_lexer_matches_the_per_character_scan(s):
    for esc in ("\\", "`"):
        for lk in (None, lookup):
            for stop in (None, "}"):
                # the value, and where it stopped: ${...} fallbacks and _setting_value read lex.i
                assert _state(D._Lex, s, esc, lk, stop) == _state(RefLex, s, esc, lk, stop), (s, esc, stop)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(texts)
def test_plain_words_shortcut_matches_the_lexer(s):
    for esc in ("\\", "`"):
        general = RefLex(s, esc, lookup)
        value = general.word()
        assert D._expand(s, esc, lookup) == (UNKNOWN if general.unknown else value)
        assert D._unquote(s, esc) == RefLex(s, esc).word()


# -- whole files ------------------------------------------------------------------------------

def _canon(value):
    if isinstance(value, Location):
        return value.astuple()
    if isinstance(value, Resource):
        return (value.type_name, value.ident)
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canon(v) for v in value]
    return value


def model(text: str):
    pf = D.parse("Dockerfile", text)
    return ([(d.line, d.column, d.level, d.message) for d in pf.diagnostics],
            [(r.type_name, r.ident, {k: _canon(v) for k, v in sorted(vars(r).items())}) for r in pf.resources])


LINES = ["FROM alpine:3.20 AS base", "FROM base", "FROM $IMG", "ARG IMG=debian:12", "ARG V", "RUN a \\", "  b \\",
         "  # comment \\", "  # https://x/#frag", "\tc && d", "", "   ", "ENV A=1 \\", "  B=\"x y\" \\", "  C=${A:-z}",
         "ENV LEGACY value with spaces", "ENV P=$PATH:/x Q='q' \\", "EXPOSE 80 \\", "  443/tcp", "USER $UID",
         "ARG UID=1000", "x\\\\", "\\", "  \\", "COPY --from=base /a \\", "   /b", "HEALTHCHECK NONE",
         "CMD [\"nginx\"] \\", "LABEL a=b \\", "  c=\"d e\"", "# escape=`", "RUN w `", "  v", "\u00a0s \\",
         "ENV K=\\", "1 L=2", "EXPOSE 8\\", "0"]


@pytest.fixture(scope="module")
def corpus():
    rng = random.Random(7)
    docs = []
    for _ in range(250):
        body = [rng.choice(LINES) for _ in range(rng.randint(1, 18))]
        # ends on a line that does not continue: the Instruction's end column is the length of its
        # last line, which the blanks added below would change for a continued one
        docs.append("\n".join(body + ["USER 1000"]) + "\n")
    return docs


def test_plain_shortcut_gives_the_same_model(corpus, monkeypatch):
    fast = [model(t) for t in corpus]
    monkeypatch.setattr(D, "_plain", lambda raw, esc: False)
    assert [model(t) for t in corpus] == fast


def _blanks_after_escapes(text: str, esc: str, rng: random.Random) -> str:
    out = []
    for line in text.split("\n"):
        if line.rstrip(" \t").endswith(esc):
            line += rng.choice([" ", "\t", " \t ", "  "])
        out.append(line)
    return "\n".join(out)


def test_blanks_after_the_escape_give_the_same_model(corpus):
    rng = random.Random(11)
    for text in corpus:
        esc = "`" if "# escape=`" in text.split("\n", 1)[0] else "\\"
        assert model(_blanks_after_escapes(text, esc, rng)) == model(text), text


def test_column_map_of_a_long_continued_instruction():
    # comment lines, a blank line and blanks after an escape inside one ENV: every key's column
    lines = ["FROM alpine", "ENV A=1 \\", "  # note \\", "    B=2 \\", "", "\tC=3 \\  ", "# https://x/#y",
             "      D=4"]
    pf = D.parse("Dockerfile", "\n".join(lines) + "\n")
    got = {s.name: (s.loc.line, s.loc.column, s.loc.end_column) for s in pf.of_type("setting")}
    assert got == {"A": (2, 5, 8), "B": (4, 5, 8), "C": (6, 2, 5), "D": (8, 7, 10)}
    assert [d.line for d in pf.diagnostics] == [5]  # the empty continuation line
    # a word that starts on one line and ends on the next
    pf = D.parse("Dockerfile", "FROM alpine\nENV K=\\\n1 L=2\n")
    got = {s.name: s.loc.astuple()[1:] for s in pf.of_type("setting")}
    assert got == {"K": (2, 5, 3, 2), "L": (3, 3, 3, 6)}


# -- reading: continued instructions -----------------------------------------------------------

def ref_read(lines: list[str], i: int, esc: str):
    """The per-line reading (the parser's earlier code): text, last line, EOF inside the
    continuation, first empty continuation line, and the offset -> (line, column) map."""
    def trim(x):
        t = x.rstrip(" \t")
        return (t[:-1], True) if t.endswith(esc) else (x, False)

    first = lines[i].lstrip()
    text, cont = trim(first)
    offs, segs, parts = [0], [(i, len(lines[i]) - len(first))], [text]
    off, last, j, empty = len(text), i, i, None
    while cont and j + 1 < len(lines):
        j += 1
        raw = lines[j]
        stripped = raw.lstrip()
        if stripped.startswith("#"):
            continue
        if not stripped:
            empty = j if empty is None else empty
            continue
        t, cont = trim(raw)
        offs.append(off)
        segs.append((j, 0))
        parts.append(t)
        off += len(t)
        last = j
    text = "".join(parts)

    def pos(o):
        k = bisect_right(offs, o) - 1
        return segs[k][0] + 1, segs[k][1] + (o - offs[k]) + 1

    return text, last, cont, empty, [pos(o) for o in range(len(text) + 2)]


def test_reading_matches_the_per_line_reading(corpus):
    rng = random.Random(5)
    for text in corpus:
        lines = text.split("\n")[:-1]
        if rng.random() < 0.5:  # end inside a continuation
            lines = lines[:-1] + [rng.choice(["RUN x \\", "  y \\", "ENV A=\\", "\\"])]
        for esc in ("\\", "`"):
            reader = D._Reader(lines, esc)
            for i, line in enumerate(lines):
                if not line.strip() or line.strip().startswith("#"):
                    continue
                ins = reader.read(i)
                got = (ins.text, ins.end, ins.eof_in_cont, ins.empty_cont_line,
                       [ins.pos(o) for o in range(len(ins.text) + 2)])
                assert got == ref_read(lines, i, esc), (lines, i, esc)
                # the shortcuts of spans and instruction locations for offsets on the first line,
                # against pos()
                builder = D._Builder(D.ParsedFile("Dockerfile", "dockerfile"), "\n".join(lines))
                line, col = ins.pos(0)
                assert builder._ins_loc(ins) == Location("Dockerfile", line, col, ins.end + 1,
                                                         len(lines[ins.end]) + 1), (lines, i)
                for start in range(len(ins.text) + 1):
                    for end in (start, start + 1, start + 3):
                        line, col = ins.pos(start)
                        eline, ecol = ins.pos(max(end - 1, start))
                        want = Location("Dockerfile", line, col, eline, ecol + 1)
                        assert builder._span(ins, start, end) == want, (lines, i, start, end)
