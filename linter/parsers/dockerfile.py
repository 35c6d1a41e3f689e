"""Dockerfile -> model.

Emits, for one Dockerfile:

* an :class:`Instruction` per instruction (heredoc bodies joined into their RUN/COPY/ADD value);
  extra attributes ``heredocs`` (list of {name, body, line, chomp, expand}) and ``in_final_image``
  (the stage is the final one or one it is built FROM);
* an :class:`Image` (context ``from``) per ``FROM`` that pulls an image: not ``scratch``, not an
  earlier stage;
* a :class:`Setting` per ``ENV`` pair (context ``env``) and per ``ARG`` with a default
  (context ``build-arg``), in every stage: a secret in a builder stage is still in the repository;
* one :class:`Container` (role ``image``, ident ``Dockerfile:image``) for the final stage, with
  the user, health check, exposed ports and environment the built image ends up with; extra
  attributes ``stages`` (list of {index, name, line, image, from_stage, scratch, platform}),
  ``base_image`` (the Image the final stage chain starts from), ``port_locs`` (one Location per
  host_ports entry) and ``syntax`` (the ``# syntax=`` directive).

How the text is read.  dockerfile-parse's ``structure`` gives instruction boundaries, but it is
wrong in ways BuildKit is not (libraries.md §3): heredoc bodies become bogus instructions, a
blank line ends a continuation, a final instruction ending in ``\\`` is dropped, an
argument-less line is skipped, ``# check=`` hides a later ``# escape=``.  Its joined values also
lose the mapping back to physical lines, which we need for the column of every ``ENV`` key.  So
its start lines are only a first index: each instruction's extent is re-read from the raw lines
with BuildKit's rules, the entries that fall inside a heredoc body or a repaired continuation are
dropped, and lines it never started an instruction on are picked up.

Decisions (the places where a reader could expect otherwise):

* Variables are resolved as a build *without* ``--build-arg`` would: an ARG's default is its
  value.  A bare ``$X`` whose value is not known (ARG without default, undeclared, platform
  args, the base image's ENV) makes the whole value :data:`UNKNOWN`, never an empty string.
  ``${X:-d}`` with X unset or empty is ``d``; ``${X-d}`` only when unset; ``${X:+a}`` is ``a``
  when X is set and non-empty.  Inside a stage built on an external image an undeclared name may
  come from that image's ENV, so it is UNKNOWN even in ``${X:-d}``; over ``scratch`` it is unset.
  A FROM whose substituted reference is not a valid reference (``servercore:${V}`` with
  ``ARG V=``) is UNKNOWN: that default cannot be what gets built.
* Setting values are the literal text, unquoted the way BuildKit unquotes them, with ``$``
  expressions left as written.  A value that is a single reference (``$X``, ``${X}``,
  ``"${X}"``, ``${X:+...}``, ``${X:?...}``, or ``${X:-}`` with an empty fallback) has
  value None and from_reference True.  ``${X:-literal}`` has value ``literal`` (a literal
  fallback is in the repository, so ``${API_KEY:-sk_live_...}`` is a plaintext secret).
  ``ONBUILD ENV`` makes no Setting (it applies to other images); its Instruction is emitted.
* The final image inherits from a ``FROM <earlier stage>`` chain: USER, HEALTHCHECK, EXPOSE and
  ENV of the parent stages count for the Container, as they end up in the image config.  A USER
  in a stage the final stage does not build on does not count.  USER and EXPOSE are expanded
  with the stage's ARG/ENV values (``USER $UID`` with ``ARG UID=1000`` is ``1000``).
* Stage indexes are 0-based, as in ``COPY --from=0``; an unnamed final stage is named ``stage N``.
* A Dockerfile without FROM is an error diagnostic (nothing can be built from it); its
  instructions and settings are still emitted, since a secret in it is still in the repository.
* Diagnostics at level ``error`` for what BuildKit refuses (unterminated heredoc, unknown
  instruction, malformed FROM/ENV/EXPOSE, ...); ``notice`` for what it accepts with a warning
  (a final line ending in ``\\``, an empty continuation line, an undeclared variable in FROM).
"""
from __future__ import annotations

import io
import json
import re
from bisect import bisect_right
from typing import Any

from ..model import UNKNOWN, Container, Image, Instruction, Location, ParsedFile, Setting

FORMAT = "dockerfile"
IDENT = "Dockerfile"

KEYWORDS = frozenset("ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER ONBUILD RUN "
                     "SHELL STOPSIGNAL USER VOLUME WORKDIR".split())
_HEREDOC_KEYWORDS = frozenset(("RUN", "COPY", "ADD"))
#: BuildKit defines these in the global scope; their values depend on the build machine.
_PLATFORM_ARGS = ("BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
                  "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT")
_DIRECTIVE_RE = re.compile(r"^\s*#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_DIRECTIVES = ("syntax", "escape", "check")
_HEREDOC_RE = re.compile(r"^(\d*)<<(-?)([^<]*)$")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STAGE_NAME_RE = re.compile(r"^[a-z][a-z0-9\-_.]*$")
_KEYWORD_RE = re.compile(r"(\S+)\s*")
#: the distribution reference grammar, loosely (upper case allowed in the host only)
_REFERENCE_RE = re.compile(
    r"^(?:(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:]+\])(?::\d+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::\w[\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,})?$")
_UNSET = None


def parse(path: str, text: str) -> ParsedFile:
    pf = ParsedFile(path, FORMAT)
    try:
        _Builder(pf, text).run()
    except RecursionError:
        pf.error(None, "input nested too deeply to check")
    except Exception as exc:  # noqa: BLE001 - contract: a parser never raises; keep what was built
        pf.error(None, f"internal error while parsing Dockerfile ({type(exc).__name__}: {exc}); "
                       "please report this file")
    return pf


# --------------------------------------------------------------------------------------------
# Reading: logical instructions with a map from joined text back to physical positions
# --------------------------------------------------------------------------------------------

class _Heredoc:
    __slots__ = ("name", "chomp", "expand", "body", "start", "end", "terminated")

    def __init__(self, name: str, chomp: bool, expand: bool):
        self.name = name
        self.chomp = chomp
        self.expand = expand
        self.body: list[str] = []
        self.start = self.end = 0  # 0-based lines of the body's first line and of the terminator
        self.terminated = False


class _Instr:
    """One logical instruction.  ``text`` is the joined line (keyword and arguments, escapes of
    continuations removed); ``offs``/``segs`` map an offset in ``text`` to a physical position."""

    __slots__ = ("keyword", "start", "end", "text", "args_off", "offs", "segs", "heredocs", "eof_in_cont",
                 "empty_cont_line")

    def __init__(self):
        self.heredocs: list[_Heredoc] = []

    @property
    def args(self) -> str:
        return self.text[self.args_off:]

    def pos(self, off: int) -> tuple[int, int]:
        """1-based (line, column) of the character at ``off`` in ``text``."""
        k = bisect_right(self.offs, off) - 1
        line0, col0 = self.segs[k]
        return line0 + 1, col0 + (off - self.offs[k]) + 1


def _lines_of(text: str) -> list[str]:
    # Same line counting as linter.source (CRLF and lone CR are line breaks), for callers that
    # hand us text that did not go through it.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


class _Reader:
    def __init__(self, lines: list[str], escape: str):
        self.lines = lines
        self.esc = escape

    def _trim(self, s: str) -> tuple[str, bool]:
        # BuildKit: the escape token followed only by spaces/tabs continues the line
        t = s.rstrip(" \t")
        if t.endswith(self.esc):
            return t[:-1], True
        return s, False

    def read(self, i: int) -> _Instr:
        lines = self.lines
        line = lines[i]
        first = line.lstrip()
        text, cont = self._trim(first)
        ins = _Instr()
        ins.start = i
        ins.offs = [0]
        ins.segs = [(i, len(line) - len(first))]
        ins.empty_cont_line = None
        parts = [text]
        off = len(text)
        last = j = i
        while cont and j + 1 < len(lines):
            j += 1
            raw = lines[j]
            s = raw.lstrip()
            if s.startswith("#"):  # BuildKit drops comment lines inside a continuation
                continue
            if not s:  # BuildKit skips these (with a warning); the library ends the instruction here
                if ins.empty_cont_line is None:
                    ins.empty_cont_line = j
                continue
            t, cont = self._trim(raw)
            ins.offs.append(off)
            ins.segs.append((j, 0))
            parts.append(t)
            off += len(t)
            last = j
        ins.eof_in_cont = cont
        ins.end = last
        ins.text = "".join(parts)
        m = _KEYWORD_RE.match(ins.text)
        ins.keyword = m.group(1).upper() if m else ""
        ins.args_off = m.end() if m else 0
        return ins

    def read_heredocs(self, ins: _Instr, docs: list[_Heredoc]) -> None:
        lines = self.lines
        j = ins.end
        for doc in docs:
            doc.start = j + 1
            while j + 1 < len(lines):
                j += 1
                cand = lines[j].lstrip("\t") if doc.chomp else lines[j]
                if cand == doc.name:
                    doc.terminated = True
                    break
                doc.body.append(lines[j])
            doc.end = j
            ins.heredocs.append(doc)
            if not doc.terminated:
                break
        ins.end = j


def _library_starts(lines: list[str]) -> list[int]:
    """0-based start lines of dockerfile-parse's instructions (comments excluded)."""
    try:
        from dockerfile_parse import DockerfileParser

        data = "\n".join(lines).encode("utf-8", "replace")  # lone surrogates would make it raise
        structure = DockerfileParser(fileobj=io.BytesIO(data)).structure  # one parse: every property re-parses
        return sorted(e["startline"] for e in structure if e["instruction"] != "COMMENT")
    except Exception:  # noqa: BLE001 - the raw-line reader below does not need it to be right
        return []


def _read_all(lines: list[str], escape: str) -> list[_Instr]:
    reader = _Reader(lines, escape)
    starts = _library_starts(lines)
    out: list[_Instr] = []
    k = 0
    i = 0
    n = len(lines)
    while i < n:
        # Library entries before i lie inside a heredoc body or a continuation it split: bogus.
        while k < len(starts) and starts[k] < i:
            k += 1
        nxt = starts[k] if k < len(starts) else n
        if i < nxt:
            s = lines[i].strip()
            if not s or s.startswith("#"):
                i += 1
                continue
            # else: an instruction the library dropped (final line ending in "\", no arguments)
        ins = reader.read(i)
        docs = _heredocs_in(ins)
        if docs:
            reader.read_heredocs(ins, docs)
        out.append(ins)
        i = ins.end + 1
    return out


# --------------------------------------------------------------------------------------------
# Words and shell-like expansion (BuildKit's parseWords and shell lexer)
# --------------------------------------------------------------------------------------------

def _words(s: str, base: int, esc: str, quotes: bool = True) -> list[tuple[str, int, int]]:
    """Whitespace-separated words with quotes and escapes kept raw, as (word, start, end) with
    offsets shifted by ``base``.  With ``quotes`` False only whitespace separates."""
    out = []
    i, n = 0, len(s)
    while i < n:
        while i < n and s[i].isspace():
            i += 1
        if i >= n:
            break
        st = i
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
        out.append((s[st:i], base + st, base + i))
    return out


class _Lex:
    """Removes quotes and escapes; with ``lookup`` also expands ``$`` expressions.

    ``lookup(name)`` returns a str, UNKNOWN, or None (unset).  Without ``lookup``, ``$``
    expressions are kept as written.  ``unknown`` is set when the result is not known.
    """

    def __init__(self, s: str, esc: str, lookup=None):
        self.s = s
        self.i = 0
        self.esc = esc
        self.lookup = lookup
        self.unknown = False
        #: (name, operator, fallback word as written) of the last ${...} read
        self.last: tuple[str, str, str] | None = None

    def word(self, stop: str | None = None) -> str:
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

    def _dquote(self) -> str:
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

    def dollar(self) -> str:
        s = self.s
        st = self.i
        self.i += 1
        if self.i >= len(s):
            return "$"
        if s[self.i] != "{":
            m = _NAME_RE.match(s, self.i)
            if not m:
                return "$"
            self.i = m.end()
            if self.lookup is None:
                return s[st:self.i]
            return self._value(self.lookup(m.group()))
        self.i += 1
        m = _NAME_RE.match(s, self.i)
        if not m:  # "bad substitution" to BuildKit
            end = s.find("}", self.i)
            self.i = len(s) if end < 0 else end + 1
            return self._opaque(st)
        name = m.group()
        self.i = m.end()
        op = ""
        if s.startswith(":", self.i):
            op = ":"
            self.i += 1
        c = s[self.i:self.i + 1]
        if c == "}" and not op:
            self.i += 1
            self.last = (name, "", "")
            return s[st:self.i] if self.lookup is None else self._value(self.lookup(name))
        if c not in ("-", "+", "?") and not (c in ("#", "%", "/") and not op):
            end = s.find("}", self.i)
            self.i = len(s) if end < 0 else end + 1
            return self._opaque(st)
        op += c
        self.i += 1
        was_unknown = self.unknown
        wst = self.i
        word = self.word(stop="}")
        raw_word = s[wst:self.i]
        self.i += 1  # the closing brace (or past the end when it is missing)
        self.last = (name, op, raw_word)
        if self.lookup is None:
            return s[st:self.i]
        used_word_unknown = self.unknown
        self.unknown = was_unknown
        val = self.lookup(name)
        if val is UNKNOWN or op[-1] in "#%/":  # pattern operators: not worth emulating
            self.unknown = True
            return ""
        empty = val is None or (val == "" and op.startswith(":"))
        kind = op[-1]
        if kind == "-":
            if empty:
                self.unknown = self.unknown or used_word_unknown
                return word
            return val
        if kind == "+":
            if empty:
                return ""
            self.unknown = self.unknown or used_word_unknown
            return word
        # "?": the build fails when it is unset
        if empty:
            self.unknown = True
            return ""
        return val

    def _value(self, val) -> str:
        if val is None or val is UNKNOWN:
            self.unknown = True
            return ""
        return val

    def _opaque(self, st: int) -> str:
        if self.lookup is None:
            return self.s[st:self.i]
        self.unknown = True
        return ""


def _unquote(raw: str, esc: str) -> str:
    return _Lex(raw, esc).word()


def _expand(raw: str, esc: str, lookup) -> Any:
    lex = _Lex(raw, esc, lookup)
    out = lex.word()
    return UNKNOWN if lex.unknown else out


def _setting_value(raw: str, esc: str) -> tuple[Any, bool]:
    """(value, from_reference) for an ENV/ARG value as written."""
    inner = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
    if inner.startswith("$"):
        lex = _Lex(inner, esc)
        lex.dollar()
        if lex.i == len(inner) and lex.i > 1:
            _, op, fallback = lex.last if lex.last and inner.startswith("${") else ("", "", "")
            if op in (":-", "-") and fallback and "$" not in fallback:
                return _unquote(fallback, esc), False
            return None, True
    return _unquote(raw, esc), False


def _flags(args: str, base: int) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]]:
    """Split leading ``--flag[=value]`` words from the rest (whitespace-separated)."""
    words = _words(args, base, "", quotes=False)
    k = 0
    while k < len(words) and words[k][0].startswith("--"):
        k += 1
    return words[:k], words[k:]


def _is_json_form(rest: str) -> bool:
    rest = rest.strip()
    if not rest.startswith("["):
        return False
    try:
        v = json.loads(rest)
    except ValueError:
        return False
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _heredocs_in(ins: _Instr) -> list[_Heredoc]:
    if "<<" not in ins.text:
        return []
    kw, args, base = ins.keyword, ins.args, ins.args_off
    if kw == "ONBUILD":
        m = _KEYWORD_RE.match(args)
        if not m:
            return []
        kw, args, base = m.group(1).upper(), args[m.end():], base + m.end()
    if kw not in _HEREDOC_KEYWORDS:
        return []
    _, rest = _flags(args, base)
    if rest and _is_json_form(ins.text[rest[0][1]:]):
        return []
    docs = []
    # BuildKit lexes heredoc words with "\" as escape whatever the escape directive says.
    for word, _, _ in _words(args, 0, "\\"):
        m = _HEREDOC_RE.match(word)
        if not m or not m.group(3):
            continue
        raw_name = m.group(3)
        name = _unquote(raw_name, "\\")
        if not name or any(c.isspace() for c in name):
            continue
        docs.append(_Heredoc(name, m.group(2) == "-", not any(q in raw_name for q in "'\"")))
    return docs


def _parse_directives(lines: list[str], pf: ParsedFile) -> dict[str, tuple[str, int]]:
    found: dict[str, tuple[str, int]] = {}
    for i, line in enumerate(lines):
        m = _DIRECTIVE_RE.match(line)
        if not m or m.group(1).lower() not in _DIRECTIVES:
            break
        key = m.group(1).lower()
        if key in found:
            pf.error(i + 1, f"only one {key} parser directive can be used")
            break
        found[key] = (m.group(2), i + 1)
    return found


# --------------------------------------------------------------------------------------------
# Building the model
# --------------------------------------------------------------------------------------------

class _Stage:
    def __init__(self, index: int, name: str | None, ins: _Instr, loc: Location):
        self.index = index
        self.name = name
        self.ins = ins
        self.loc = loc
        self.image: Image | None = None
        self.parent: _Stage | None = None
        self.scratch = False
        self.platform: str | None = None
        #: False when an undeclared variable may come from the base image's ENV
        self.env_known = False
        self.args: dict[str, Any] = {}
        self.envvars: dict[str, Any] = {}
        self.user: Any = None
        self.user_loc: Location | None = None
        self.healthcheck: bool | None = None
        self.hc_loc: Location | None = None
        #: ENTRYPOINT and CMD as written (inherited along FROM <stage>, like Docker does)
        self.entrypoint = self.cmd = ""
        self.ports: list = []
        self.port_locs: list[Location] = []
        self.env: list[Setting] = []
        self.counts: dict[str, int] = {}
        self.setting_counts: dict[str, int] = {}

    @property
    def prefix(self) -> str:
        return f"{IDENT}:stage[{self.index}]" + (f"/{self.name}" if self.name else "")

    @property
    def label(self):
        return self.name if self.name else self.index

    def inherit(self, parent: "_Stage") -> None:
        self.parent = parent
        self.env_known = parent.env_known
        self.envvars = dict(parent.envvars)
        self.user, self.user_loc = parent.user, parent.user_loc
        self.healthcheck, self.hc_loc = parent.healthcheck, parent.hc_loc
        self.entrypoint, self.cmd = parent.entrypoint, parent.cmd
        self.ports = list(parent.ports)
        self.port_locs = list(parent.port_locs)
        self.env = list(parent.env)

    def lookup(self, name: str):
        if name in self.envvars:
            return self.envvars[name]
        if name in self.args:
            return self.args[name]
        return _UNSET if self.env_known else UNKNOWN


class _Builder:
    def __init__(self, pf: ParsedFile, text: str):
        self.pf = pf
        self.path = pf.path
        self.lines = _lines_of(text)
        self.esc = "\\"
        self.global_args: dict[str, Any] = {n: UNKNOWN for n in _PLATFORM_ARGS}
        self.global_counts: dict[str, int] = {}
        self.global_setting_counts: dict[str, int] = {}
        self.stages: list[_Stage] = []
        self.by_name: dict[str, _Stage] = {}
        self.instr_stage: list[tuple[Instruction, _Stage | None]] = []
        self.syntax: str | None = None

    # -- locations ---------------------------------------------------------------------------
    def _span(self, ins: _Instr, start: int, end: int) -> Location:
        line, col = ins.pos(start)
        eline, ecol = ins.pos(max(end - 1, start))
        return Location(self.path, line, col, eline, ecol + 1)

    def _ins_loc(self, ins: _Instr) -> Location:
        line, col = ins.pos(0)
        return Location(self.path, line, col, ins.end + 1, len(self.lines[ins.end]) + 1)

    # -- driver ------------------------------------------------------------------------------
    def run(self) -> None:
        pf, lines = self.pf, self.lines
        directives = _parse_directives(lines, pf)
        if "escape" in directives:
            value, line = directives["escape"]
            if value in ("\\", "`"):
                self.esc = value
            else:
                pf.error(line, f"invalid escape token {value!r} in the escape directive; must be ` or \\")
        self.syntax = directives.get("syntax", (None, 0))[0]

        instrs = _read_all(lines, self.esc)
        for ins in instrs:
            self._diagnose_reading(ins)
            stage = self.stages[-1] if self.stages else None
            if ins.keyword == "FROM":
                stage = self._from(ins)
            elif stage is None and ins.keyword != "ARG":
                pf.error(ins.start + 1, f"{ins.keyword} before the first FROM (only ARG may come before FROM)")
            self._instruction(ins, stage)
            if ins.keyword == "FROM":
                continue
            handler = getattr(self, "_kw_" + ins.keyword.lower(), None)
            if handler is not None:
                handler(ins, stage)
        final = self.stages[-1] if self.stages else None
        chain = set()
        st = final
        while st is not None:
            chain.add(st.index)
            st = st.parent
        for res, stage in self.instr_stage:
            res.final_stage = final is not None and stage is final
            #: in the final stage or a stage it is built FROM (its layers end up in the image)
            res.in_final_image = stage is not None and stage.index in chain
        if final is None:
            pf.error(1, "no FROM instruction: not a buildable Dockerfile")
            return
        self._container()

    def _diagnose_reading(self, ins: _Instr) -> None:
        pf = self.pf
        if ins.empty_cont_line is not None:
            pf.error(ins.empty_cont_line + 1, f"empty continuation line inside {ins.keyword} (started on line "
                     f"{ins.start + 1}); BuildKit joins the next line to it", level="notice")
        if ins.eof_in_cont:
            pf.error(ins.end + 1, f"the last instruction ({ins.keyword}) ends with a line continuation at the "
                     "end of the file", level="notice")
        for doc in ins.heredocs:
            if not doc.terminated:
                pf.error(ins.start + 1, f"unterminated heredoc <<{doc.name} (started on line {ins.start + 1}); "
                         "the rest of the file was read as its body")
        if ins.keyword not in KEYWORDS:
            pf.error(ins.start + 1, f"unknown instruction: {ins.keyword}", column=ins.pos(0)[1])
        elif not ins.args.strip() and not ins.heredocs:
            pf.error(ins.start + 1, f"{ins.keyword} requires arguments")

    # -- per instruction ---------------------------------------------------------------------
    def _instruction(self, ins: _Instr, stage: _Stage | None) -> None:
        value = ins.args.strip()
        for doc in ins.heredocs:
            value += "\n" + "".join(b + "\n" for b in doc.body)
            value += self.lines[doc.end] if doc.terminated else ""
        if stage is None:
            prefix, counts, label = f"{IDENT}:global", self.global_counts, None
        else:
            prefix, counts, label = stage.prefix, stage.counts, stage.label
        k = counts.get(ins.keyword, 0)
        counts[ins.keyword] = k + 1
        res = Instruction(FORMAT, self.path, f"{prefix}/{ins.keyword}[{k}]", self._ins_loc(ins), ins.keyword,
                          value, label, False)
        res.end_line = ins.end + 1
        res.heredocs = [{"name": d.name, "body": "".join(b + "\n" for b in d.body), "line": d.start + 1,
                         "chomp": d.chomp, "expand": d.expand} for d in ins.heredocs]
        self.pf.add(res)
        self.instr_stage.append((res, stage))  # final_stage is known once every FROM has been seen

    def _from(self, ins: _Instr) -> _Stage:
        pf = self.pf
        flags, words = _flags(ins.args, ins.args_off)
        name = None
        if len(words) == 3 and words[1][0].lower() == "as":
            name = words[2][0]
        elif len(words) != 1:
            pf.error(ins.start + 1, "FROM requires either one or three arguments (FROM image [AS name])")
            if len(words) >= 3 and words[1][0].lower() == "as":
                name = words[2][0]
        index = len(self.stages)
        stage = _Stage(index, name, ins, self._ins_loc(ins))
        for flag, _, _ in flags:
            if flag.startswith("--platform="):
                stage.platform = flag[len("--platform="):]
        if name is not None:
            key = name.lower()
            if not _STAGE_NAME_RE.match(key):
                pf.error(ins.start + 1, f"invalid stage name {name!r}: must start with a letter and contain only "
                         "letters, digits, '-', '_' and '.'")
            if key in self.by_name:
                pf.error(ins.start + 1, f"duplicate stage name {name!r} (first used on line "
                         f"{self.by_name[key].ins.start + 1})")
        if words:
            raw, s, e = words[0]
            ref = self._expand_global(raw, ins, s)
            if ref == "":
                pf.error(ins.start + 1, f"FROM {raw}: the image name is empty after variable substitution")
                ref = UNKNOWN
            parent = self.by_name.get(ref.lower()) if isinstance(ref, str) else None
            if parent is not None:
                stage.inherit(parent)
            elif isinstance(ref, str) and ref.lower() == "scratch":
                stage.scratch = True
                stage.env_known = True
            else:
                img = Image(FORMAT, self.path, f"{stage.prefix}/image", self._span(ins, s, e), ref, "from")
                pf.add(img)
                stage.image = img
        if name is not None and name.lower() not in self.by_name:
            self.by_name[name.lower()] = stage
        self.stages.append(stage)
        return stage

    def _expand_global(self, raw: str, ins: _Instr, off: int) -> Any:
        undeclared: list[str] = []

        def lookup(name):
            if name in self.global_args:
                return self.global_args[name]
            undeclared.append(name)
            return _UNSET

        value = _expand(raw, self.esc, lookup)
        if isinstance(value, str) and value and value != raw and not _REFERENCE_RE.match(value):
            # e.g. "servercore:${WINDOWS_VERSION}" with "ARG WINDOWS_VERSION=": the default cannot be
            # what gets built, so the caller must pass the variable; judging "servercore:" would be a guess.
            line, col = ins.pos(off)
            self.pf.error(line, f"FROM {raw}: {value!r} is not a valid image reference with the ARG defaults; "
                          "treated as unknown", column=col, level="notice")
            value = UNKNOWN
        for name in dict.fromkeys(undeclared):
            line, col = ins.pos(off)
            self.pf.error(line, f"FROM uses ${name}, which no ARG before the first FROM declares", column=col,
                          level="notice")
        return value

    def _setting(self, ins: _Instr, stage: _Stage | None, name: str, raw: str, context: str,
                 start: int, end: int) -> Setting:
        value, from_ref = _setting_value(raw, self.esc)
        kind = "env" if context == "env" else "arg"
        if stage is None:
            prefix, counts = f"{IDENT}:global", self.global_setting_counts
        else:
            prefix, counts = stage.prefix, stage.setting_counts
        key = f"{kind}/{name}"
        k = counts.get(key, 0)
        counts[key] = k + 1
        ident = f"{prefix}/{key}" + (f"[{k}]" if k else "")
        s = Setting(FORMAT, self.path, ident, self._span(ins, start, end), name, value, context, from_ref)
        s.end_line = s.loc.end_line
        self.pf.add(s)
        return s

    def _kw_env(self, ins: _Instr, stage: _Stage | None) -> None:
        args, base = ins.args, ins.args_off
        words = _words(args, base, self.esc)
        if not words:
            return
        lookup = stage.lookup if stage is not None else self._global_lookup
        if "=" not in words[0][0]:
            # legacy "ENV NAME value with spaces": the value is the rest of the line
            name, s, e = words[0]
            rest_start = e - base
            while rest_start < len(args) and args[rest_start].isspace():
                rest_start += 1
            raw = args[rest_start:].rstrip()
            if not raw:
                self.pf.error(ins.start + 1, f"ENV {name} has no value (ENV NAME=value or ENV NAME value)")
                return
            pairs = [(name, raw, s, base + rest_start + len(raw))]
        else:
            pairs = []
            for word, s, e in words:
                if "=" not in word:
                    line, col = ins.pos(s)
                    self.pf.error(line, f"ENV: can't find '=' in {word!r}; must be NAME=value", column=col)
                    continue
                name, raw = word.split("=", 1)
                pairs.append((name, raw, s, e))
        # Every value of one ENV sees the variables as they were before it (Docker's documented rule).
        assigned = []
        for name, raw, s, e in pairs:
            if not name:
                line, col = ins.pos(s)
                self.pf.error(line, "ENV names can not be blank", column=col)
                continue
            setting = self._setting(ins, stage, name, raw, "env", s, e)
            assigned.append((name, _expand(raw, self.esc, lookup), setting))
        if stage is not None:
            for name, value, setting in assigned:
                stage.envvars[name] = value
                stage.env.append(setting)

    def _global_lookup(self, name):
        return self.global_args.get(name, _UNSET)

    def _kw_arg(self, ins: _Instr, stage: _Stage | None) -> None:
        for word, s, e in _words(ins.args, ins.args_off, self.esc):
            name, eq, raw = word.partition("=")
            if not name:
                continue
            if stage is None:
                scope, lookup = self.global_args, self._global_lookup
            else:
                scope, lookup = stage.args, stage.lookup
            if eq:
                self._setting(ins, stage, name, raw, "build-arg", s, e)
                scope[name] = _expand(raw, self.esc, lookup)
            elif stage is not None and name in self.global_args:
                scope[name] = self.global_args[name]  # "ARG NAME" in a stage brings the global default in
            elif name not in scope:
                scope[name] = _UNSET

    def _kw_user(self, ins: _Instr, stage: _Stage | None) -> None:
        args = ins.args.rstrip()
        if stage is None or not args.strip():
            return
        raw = args.strip()
        start = ins.args_off + (len(args) - len(args.lstrip()))
        value = _expand(raw, self.esc, stage.lookup)
        stage.user = value
        stage.user_loc = self._span(ins, start, start + len(raw))

    def _kw_healthcheck(self, ins: _Instr, stage: _Stage | None) -> None:
        if stage is None:
            return
        _, rest = _flags(ins.args, ins.args_off)
        if not rest:
            return
        stage.healthcheck = rest[0][0].upper() != "NONE"
        stage.hc_loc = self._ins_loc(ins)

    def _kw_cmd(self, ins: _Instr, stage: _Stage | None) -> None:
        if stage is not None:
            stage.cmd = ins.args

    def _kw_entrypoint(self, ins: _Instr, stage: _Stage | None) -> None:
        if stage is not None:
            stage.entrypoint = ins.args
            stage.cmd = ""  # Docker resets an inherited CMD when ENTRYPOINT is set

    def _kw_expose(self, ins: _Instr, stage: _Stage | None) -> None:
        if stage is None:
            return
        for raw, s, e in _words(ins.args, ins.args_off, self.esc):
            loc = self._span(ins, s, e)
            value = _expand(raw, self.esc, stage.lookup)
            ports = _ports(value)
            if ports is None:
                self.pf.error(loc.line, f"EXPOSE: invalid port {raw!r} (expected PORT[/PROTOCOL] or "
                              "START-END[/PROTOCOL])", column=loc.column)
                continue
            stage.ports.extend(ports)
            stage.port_locs.extend([loc] * len(ports))

    # -- the image the file builds -----------------------------------------------------------
    def _container(self) -> None:
        final = self.stages[-1]
        ct = Container(FORMAT, self.path, f"{IDENT}:image", final.loc,
                       final.name if final.name else f"stage {final.index}", "image")
        ct.root_by_default = True
        ct.set("user", final.user, final.user_loc)
        ct.set("image", final.image, final.image.loc if final.image else None)
        root = final
        while root.parent is not None:
            root = root.parent
        #: the image the final stage chain starts from (None for scratch)
        ct.base_image = root.image
        ct.set("healthcheck", final.healthcheck, final.hc_loc)
        ct.set("host_ports", list(final.ports), final.port_locs[0] if final.port_locs else None)
        #: the image's command starts a server (feeds the long_running fact with EXPOSE)
        ct.server_command = bool(_SERVER.search(f"{final.entrypoint} {final.cmd}"))
        #: one Location per entry of host_ports
        ct.port_locs = list(final.port_locs)
        ct.env = list(final.env)
        ct.stages = [{"index": st.index, "name": st.name, "line": st.loc.line, "image": st.image,
                      "from_stage": st.parent.index if st.parent else None, "scratch": st.scratch,
                      "platform": st.platform} for st in self.stages]
        ct.syntax = self.syntax
        ct.end_line = max(len(self.lines), 1)
        self.pf.add(ct)


# Commands that start a long-lived network service (a base image's `python3` or `node` REPL is not).
_SERVER = re.compile(
    r"(?i)(?<![\w.-])(nginx|httpd|apache2(ctl)?|caddy|traefik|envoy|haproxy|gunicorn|uvicorn|hypercorn|daphne"
    r"|waitress-serve|puma|unicorn|rackup|php-fpm[\d.]*|redis-server|postgres|mysqld|mongod|supervisord"
    r"|java\b.*-jar|node\b[\s\",]+[^\s\",]+\.[cm]?js|npm[\s\",]+(run[\s\",]+)?start|yarn[\s\",]+start"
    r"|flask[\s\",]+run|manage\.py[\s\",]+runserver|rails[\s\",]+s(erver)?|dotnet[\s\",]+[^\s\",]+\.dll)"
    r"(?![\w.-])")


def _ports(value: Any) -> list | None:
    """EXPOSE word -> list of ports (ints, or UNKNOWN); None when malformed."""
    if value is UNKNOWN:
        return [UNKNOWN]
    spec, _, proto = value.partition("/")
    if proto and proto.lower() not in ("tcp", "udp", "sctp"):
        return None
    lo, dash, hi = spec.partition("-")
    try:
        a = int(lo)
        b = int(hi) if dash else a
    except ValueError:
        return None
    if not (0 <= a <= b <= 65535):
        return None
    return list(range(a, b + 1))
