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

How the text is read: with BuildKit's rules, from the raw lines, by this module.
dockerfile-parse (the library this parser started on) is wrong where BuildKit is not
(libraries.md §3): heredoc bodies become bogus instructions, a blank line ends a continuation, a
final instruction ending in ``\\`` is dropped, an argument-less line is skipped, ``# check=``
hides a later ``# escape=``; and its joined values lose the mapping back to physical lines, which
we need for the column of every ``ENV`` key.  Its start lines were kept as a "first index" until
it was measured that they never changed the model (identical on the 648 corpus Dockerfiles and
~10k mutated ones with the call removed) while costing ~75 us per file, 40% of this parse; so
the reader stands alone.

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

import json
import re
from bisect import bisect_right
from typing import Any, Iterator

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
#: a line BuildKit skips (blank or a comment); \s is str.isspace, as strip() uses
_SKIP_RE = re.compile(r"\s*(?:#|\Z)")
#: the distribution reference grammar, loosely (upper case allowed in the host only)
_REFERENCE_RE = re.compile(
    r"^(?:(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:]+\])(?::\d+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::\w[\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,})?$")
_UNSET = None
_GLOBAL_PREFIX = f"{IDENT}:global"


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
    continuations removed); :meth:`pos` maps an offset in ``text`` to a physical position."""

    __slots__ = ("keyword", "start", "end", "text", "args", "args_off", "indent", "head", "src", "last", "_map",
                 "heredocs", "eof_in_cont", "empty_cont_line")

    def __init__(self):
        self.heredocs: tuple | list[_Heredoc] = ()  # a list once read_heredocs finds one

    def pos(self, off: int) -> tuple[int, int]:
        """1-based (line, column) of the character at ``off`` in ``text``."""
        head = self.head
        if 0 <= off < head or head == _ONE_LINE:  # on the first line (``head``: the length of its part)
            return self.start + 1, self.indent + off + 1
        offs, lines = self._map if self._map is not None else self._build_map()
        k = bisect_right(offs, off) - 1
        if k < 0:  # (a negative offset: the last part, as indexing with -1 gives)
            k += len(offs)
        # a part starts at column 1 of its line, except the first (after the indentation)
        col0 = self.indent if k == 0 else 0
        return lines[k] + 1, col0 + (off - offs[k]) + 1

    def _build_map(self) -> tuple[list[int], list[int]]:
        # Built on first use: most continued instructions (long RUNs) never ask for a column.
        # Every line after the first up to ``last`` gives a part, except blank and comment lines;
        # a continued line's part is the line without the escape and the blanks after it.  (The
        # last part's length does not matter: nothing starts after it.)
        src, skip = self.src, _SKIP_RE.match
        lines = [self.start]
        lines += [j for j in range(self.start + 1, self.last + 1) if not skip(src[j])]
        offs = [0]
        acc = self.head
        for j in lines[1:]:
            offs.append(acc)
            acc += len(src[j].rstrip(" \t")) - 1
        self._map = (offs, lines)
        return self._map


#: no offset is past this: a one-line instruction maps every offset to its line
_ONE_LINE = 1 << 62


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

    def read(self, i: int) -> _Instr:
        lines, esc = self.lines, self.esc
        line = lines[i]
        first = line.lstrip()
        ins = _Instr()
        ins.start = i
        ins.indent = len(line) - len(first)
        ins.empty_cont_line = None
        # BuildKit: the escape token followed only by spaces/tabs continues the line
        t = first.rstrip(" \t")
        if not t.endswith(esc):  # one physical line, the common case
            ins.text = text = first
            ins.end = i
            ins.eof_in_cont = False
            ins.head = _ONE_LINE
        else:
            parts = [t[:-1]]
            final = None
            last = i
            skip = _SKIP_RE.match
            for j in range(i + 1, len(lines)):
                raw = lines[j]
                if raw.endswith(esc):  # continues (the common case: no blanks after the escape)
                    if "#" in raw and skip(raw):  # a comment line, dropped by BuildKit
                        continue
                    parts.append(raw[:-1])
                    last = j
                    continue
                if skip(raw):  # BuildKit drops comment lines inside a continuation, and skips blank
                    # ones with a warning (the library ends the instruction at a blank line)
                    if ins.empty_cont_line is None and not raw.strip():
                        ins.empty_cont_line = j
                    continue
                last = j
                t = raw.rstrip(" \t")
                if t.endswith(esc):  # spaces or tabs after the escape
                    parts.append(t[:-1])
                    continue
                parts.append(raw)
                final = j
                break
            ins.eof_in_cont = final is None
            ins.end = ins.last = last  # end moves past heredoc bodies; last stays
            ins.text = text = "".join(parts)
            ins.head = len(parts[0])
            ins.src = lines
            ins._map = None
        if text and not text[0].isspace():
            # the keyword, then the arguments from their first non-blank (split's blanks are
            # str.isspace, like BuildKit's)
            kw_args = text.split(None, 1)
            ins.keyword = kw_args[0].upper()
            ins.args = args = kw_args[1] if len(kw_args) > 1 else ""
            ins.args_off = len(text) - len(args)
        else:  # a first line of just the escape, then an indented line: no keyword
            ins.keyword = ""
            ins.args_off = 0
            ins.args = text
        return ins

    def read_heredocs(self, ins: _Instr, docs: list[_Heredoc]) -> None:
        lines = self.lines
        j = ins.end
        ins.heredocs = []
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


def _read_all(lines: list[str], escape: str) -> Iterator[_Instr]:
    """The instructions in turn (a generator: each is dropped once the model has what it needs)."""
    reader = _Reader(lines, escape)
    skip = _SKIP_RE.match
    i = 0
    n = len(lines)
    while i < n:
        while i < n and skip(lines[i]):  # blank or comment
            i += 1
        if i >= n:
            break
        ins = reader.read(i)
        if "<<" in ins.text:
            docs = _heredocs_in(ins)
            if docs:
                reader.read_heredocs(ins, docs)
        yield ins
        i = ins.end + 1


# --------------------------------------------------------------------------------------------
# Words and shell-like expansion (BuildKit's parseWords and shell lexer)
# --------------------------------------------------------------------------------------------

def _words(s: str, base: int, esc: str, quotes: bool = True) -> list[tuple[str, int, int]]:
    """Whitespace-separated words with quotes and escapes kept raw, as (word, start, end) with
    offsets shifted by ``base``.  With ``quotes`` False only whitespace separates."""
    rx = _word_re(esc) if quotes else _PLAIN_WORD_RE
    return [(m.group(), base + m.start(), base + m.end()) for m in rx.finditer(s)]


_PLAIN_WORD_RE = re.compile(r"\S+")
_WORD_RES: dict[str, re.Pattern] = {}
_SPECIAL_RES: dict[str, re.Pattern] = {}


def _word_re(esc: str) -> re.Pattern:
    """A word: whitespace outside quotes ends it; quotes ('...' literal, "..." with escapes) and an
    escaped character do not; an unterminated quote runs to the end.  Every alternative starts
    with a different character and none can fail once started, so the match is the greedy
    left-to-right scan, with no backtracking.  (\\s is str.isspace for str patterns.)"""
    rx = _WORD_RES.get(esc)
    if rx is None:
        e = re.escape(esc)
        escaped = f"|{e}.?" if esc else ""
        rx = _WORD_RES[esc] = re.compile(
            rf"""(?:[^\s'"{e}]+{escaped}|'[^']*'?|"(?:[^"{e}]+{escaped})*"?)+""", re.DOTALL)
    return rx


def _specials(chars: str) -> re.Pattern:
    """The next character the lexer must look at; everything before it is copied as is."""
    rx = _SPECIAL_RES.get(chars)
    if rx is None:
        rx = _SPECIAL_RES[chars] = re.compile("[" + re.escape(chars) + "]")
    return rx


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

    def _copy_plain(self, find, out: list) -> int:
        """Copy the text up to the next character ``find`` matches into ``out`` and return that
        character's index (the length of the text when there is none)."""
        s = self.s
        m = find(s, self.i)
        j = len(s) if m is None else m.start()
        if j > self.i:
            out.append(s[self.i:j])
            self.i = j
        return j

    def word(self, stop: str | None = None) -> str:
        s, esc = self.s, self.esc
        n = len(s)
        find = _specials("'\"$" + esc + (stop or "")).search
        out = []
        while self.i < n:
            j = self._copy_plain(find, out)
            if j >= n:
                break
            c = s[j]
            if c == stop:
                break
            if c == "'":
                j = s.find("'", self.i + 1)
                j = n if j < 0 else j
                out.append(s[self.i + 1:j])
                self.i = j + 1
            elif c == '"':
                self.i += 1
                out.append(self._dquote())
            elif c == "$":
                out.append(self.dollar())
            else:  # the escape character
                out.append(s[self.i + 1:self.i + 2])
                self.i += 2
        return "".join(out)

    def _dquote(self) -> str:
        s, esc = self.s, self.esc
        n = len(s)
        find = _specials('"$' + esc).search
        out = []
        while self.i < n:
            j = self._copy_plain(find, out)
            if j >= n:
                break
            c = s[j]
            if c == '"':
                self.i += 1
                break
            if c == "$":
                out.append(self.dollar())
                continue
            if j + 1 < n and s[j + 1] in ('"', "$", esc):  # the escape character
                out.append(s[j + 1])
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


def _plain(raw: str, esc: str) -> bool:
    """No quote, ``$`` or escape character: the word is its own value (most are)."""
    return _specials("'\"$" + esc).search(raw) is None


def _unquote(raw: str, esc: str) -> str:
    if _plain(raw, esc):
        return raw
    return _Lex(raw, esc).word()


def _expand(raw: str, esc: str, lookup) -> Any:
    if _plain(raw, esc):
        return raw
    lex = _Lex(raw, esc, lookup)
    out = lex.word()
    return UNKNOWN if lex.unknown else out


def _setting_value(raw: str, esc: str) -> tuple[Any, bool]:
    """(value, from_reference) for an ENV/ARG value as written."""
    if _plain(raw, esc):
        return raw, False
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
        #: ident prefix of what the stage holds, and its label (name, else index)
        self.prefix = f"{IDENT}:stage[{index}]" + (f"/{name}" if name else "")
        self.label = name if name else index

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
        self.global_args: dict[str, Any] = dict.fromkeys(_PLATFORM_ARGS, UNKNOWN)
        self.global_counts: dict[str, int] = {}
        self.global_setting_counts: dict[str, int] = {}
        self.stages: list[_Stage] = []
        self.by_name: dict[str, _Stage] = {}
        #: the Instructions of each stage in turn (None: before the first FROM)
        self.stage_instrs: list[tuple[_Stage | None, list[Instruction]]] = []
        self.syntax: str | None = None

    # -- locations ---------------------------------------------------------------------------
    def _span(self, ins: _Instr, start: int, end: int) -> Location:
        last = max(end - 1, start)
        if ins.head == _ONE_LINE or (start >= 0 and last < ins.head):  # on the first line (see pos)
            line, col = ins.start + 1, ins.indent + 1
            return Location(self.path, line, col + start, line, col + last + 1)
        line, col = ins.pos(start)
        eline, ecol = ins.pos(last)
        return Location(self.path, line, col, eline, ecol + 1)

    def _ins_loc(self, ins: _Instr) -> Location:
        if ins.head:  # offset 0 is on the first line
            return Location(self.path, ins.start + 1, ins.indent + 1, ins.end + 1, len(self.lines[ins.end]) + 1)
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

        stage = None
        group: list[Instruction] = []
        self.stage_instrs.append((None, group))
        for ins in _read_all(lines, self.esc):
            kw = ins.keyword
            if (ins.empty_cont_line is not None or ins.eof_in_cont or ins.heredocs or kw not in KEYWORDS
                    or not ins.args or ins.args.isspace()):
                self._diagnose_reading(ins)
            if kw == "FROM":
                stage = self._from(ins)
                group = []
                self.stage_instrs.append((stage, group))
                group.append(self._instruction(ins, stage))
                continue
            if stage is None and kw != "ARG":
                pf.error(ins.start + 1, f"{kw} before the first FROM (only ARG may come before FROM)")
            group.append(self._instruction(ins, stage))
            handler = _HANDLERS.get(kw.lower())
            if handler is not None:
                handler(self, ins, stage)
        final = self.stages[-1] if self.stages else None
        chain = set()
        st = final
        while st is not None:
            chain.add(st.index)
            st = st.parent
        for stage, group in self.stage_instrs:  # final_stage is known once every FROM has been seen
            in_final = final is not None and stage is final
            #: in the final stage or a stage it is built FROM (its layers end up in the image)
            in_image = stage is not None and stage.index in chain
            for res in group:
                res.final_stage = in_final
                res.in_final_image = in_image
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
    def _instruction(self, ins: _Instr, stage: _Stage | None) -> Instruction:
        value = ins.args.strip()
        kw = ins.keyword
        if stage is None:
            prefix, counts, label = _GLOBAL_PREFIX, self.global_counts, None
        else:
            prefix, counts, label = stage.prefix, stage.counts, stage.label
        k = counts.get(kw, 0)
        counts[kw] = k + 1
        loc = self._ins_loc(ins)
        for doc in ins.heredocs:
            value += "\n" + "".join(b + "\n" for b in doc.body)
            value += self.lines[doc.end] if doc.terminated else ""
        res = Instruction(FORMAT, self.path, f"{prefix}/{kw}[{k}]", loc, kw, value, label, False)
        res.end_line = ins.end + 1
        res.heredocs = [{"name": d.name, "body": "".join(b + "\n" for b in d.body), "line": d.start + 1,
                         "chomp": d.chomp, "expand": d.expand} for d in ins.heredocs] if ins.heredocs else []
        self.pf.add(res)
        return res

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
        if _plain(raw, self.esc):
            return raw
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
            prefix, counts = _GLOBAL_PREFIX, self.global_setting_counts
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


#: keyword (lower case, as the instruction's is looked up) -> its _Builder handler
_HANDLERS = {name[len("_kw_"):]: fn for name, fn in vars(_Builder).items() if name.startswith("_kw_")}


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
