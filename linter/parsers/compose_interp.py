"""Compose variable interpolation and the ``.env`` file, as Docker Compose does them -- except
that the process environment is never consulted, so a scan gives the same result on every
machine.

Interpolation (compose-go ``template``): ``$$`` is a literal ``$``; ``$NAME`` and ``${NAME}``
substitute; ``${NAME:-d}`` / ``${NAME-d}`` fall back to ``d`` when NAME is unset or empty / unset;
``${NAME:+a}`` / ``${NAME+a}`` give ``a`` when NAME is set and non-empty / set; ``${NAME:?e}`` /
``${NAME?e}`` require a value.  Defaults and alternatives may nest further expressions.  A ``$``
before anything else (``$(date)``, ``$2a$14$...`` in a bcrypt hash) stays as written, as
compose-go leaves it; a ``${`` that does not form an expression is a syntax error, which
``docker compose`` refuses ("invalid interpolation format").

A variable is *set* when the ``.env`` file beside the Compose file defines it.  Otherwise:

* with a fallback (``:-``, ``-``, ``:+``, ``+``) the fallback is used, as Compose would on a
  machine that does not export the variable -- so ``image: app:${TAG:-latest}`` is ``latest``;
* without one (``${NAME}``, ``${NAME:?err}``) the value is unknowable: it becomes the
  :data:`UNRESOLVED` marker, and a value containing it is UNKNOWN to the model (never a
  violation, never a plaintext secret).
"""
from __future__ import annotations

import os
import re
from typing import NamedTuple

#: Stands in for the value of a variable we cannot know.  YAML text cannot contain a raw NUL
#: (only the escape "\0" makes one, and such a value merely becomes UNKNOWN).
UNRESOLVED = "\x00"

MAX_DEPTH = 32  # nested fallbacks (${A:-${B:-...}}) deeper than this are refused
MAX_ENV_FILE_SIZE = 1024 * 1024

_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


class InterpolationError(ValueError):
    pass


class Expansion(NamedTuple):
    text: str        #: the expanded text; UNRESOLVED marks parts that cannot be known
    reference: bool  #: the text holds at least one expression and no literal text of the file

    @property
    def known(self) -> bool:
        return UNRESOLVED not in self.text


def interpolate(s: str, env: dict) -> Expansion:
    """Expand ``s`` with the variables in ``env``; raise InterpolationError on bad syntax."""
    text, literal_free, has_expr = _expand(s, env, 0)
    return Expansion(text, literal_free and has_expr)


def _expand(s: str, env: dict, depth: int) -> tuple[str, bool, bool]:
    """-> (text, no literal text contributed, at least one expression)."""
    if "$" not in s:
        return s, not s, False
    if depth > MAX_DEPTH:
        raise InterpolationError(f"fallbacks nested more than {MAX_DEPTH} levels deep")
    out = []
    literal = has_expr = False
    i, n = 0, len(s)
    while True:
        j = s.find("$", i)
        if j < 0:
            if i < n:
                out.append(s[i:])
                literal = True
            break
        if j > i:
            out.append(s[i:j])
            literal = True
        nxt = s[j + 1:j + 2]
        if nxt == "$":
            out.append("$")
            literal = True
            i = j + 2
        elif nxt == "{":
            end = _closing_brace(s, j)
            if end < 0:
                raise InterpolationError(f"'${{' without a closing '}}' in {_show(s)}")
            value, from_literal = _braced(s[j + 2:end], env, depth)
            out.append(value)
            literal = literal or from_literal
            has_expr = True
            i = end + 1
        else:
            m = _NAME.match(s, j + 1)
            if m:
                out.append(_lookup(env, m.group()))
                has_expr = True
                i = m.end()
            else:  # `$(cmd)`, `$1`, a trailing `$`: Compose keeps them as written
                out.append("$")
                literal = True
                i = j + 1
    return "".join(out), not literal, has_expr


def _closing_brace(s: str, start: int) -> int:
    """Index of the '}' closing the '${' at ``start``; every '{' opens a level, as compose-go counts."""
    depth = 0
    for i in range(start, len(s)):
        c = s[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _braced(body: str, env: dict, depth: int) -> tuple[str, bool]:
    """-> (value, the value is literal text of the file)."""
    m = _NAME.match(body)
    if not m:
        raise InterpolationError(f"'${{{body}}}' does not start with a variable name")
    name, rest = m.group(), body[m.end():]
    if not rest:
        return _lookup(env, name), False
    op = next((o for o in _OPERATORS if rest.startswith(o)), None)
    if op is None:
        raise InterpolationError(f"unsupported modifier in '${{{body}}}' "
                                 "(expected :-, -, :?, ?, :+ or +)")
    arg = rest[len(op):]
    value = env.get(name)
    empty = value is None or (op[0] == ":" and value == "")
    if op in (":-", "-"):
        if empty:
            text, literal_free, _ = _expand(arg, env, depth + 1)
            return text, not literal_free
        return value, False
    if op in (":?", "?"):
        _expand(arg, env, depth + 1)  # the message must be valid too
        # Compose stops with the message when unset; the value will be supplied at run time.
        return (UNRESOLVED if empty else value), False
    if empty:
        _expand(arg, env, depth + 1)
        return "", False
    text, literal_free, _ = _expand(arg, env, depth + 1)
    return text, not literal_free


def _lookup(env: dict, name: str) -> str:
    value = env.get(name)
    return UNRESOLVED if value is None else value


def _show(s: str) -> str:
    return repr(s if len(s) <= 80 else s[:77] + "...")


# -- the .env file --------------------------------------------------------------------------------

_DOTENV_KEY = re.compile(r"[ \t]*(?:export[ \t]+)?([\w.]+)[ \t]*(?:([=:])[ \t]*)?")
_INLINE_COMMENT = re.compile(r"[ \t]#")
_ESCAPE_NL = re.compile(r"\\([nr])")
_ESCAPE_ANY = re.compile(r"\\([^$])")

_cache: dict = {}


def parse_dotenv(text: str) -> tuple[dict, list[tuple[int, str]]]:
    """``KEY=VALUE`` lines (``export``, ``KEY: VALUE``, quotes, comments, multi-line quoted values)
    as compose-go's dotenv reads them -> (variables, [(line, problem)]).  Values may use earlier
    variables; a ``KEY`` line without ``=`` would take the value from the process environment,
    so it leaves KEY unset here."""
    env: dict = {}
    problems: list[tuple[int, str]] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        lineno = i + 1
        i += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        m = _DOTENV_KEY.match(line)
        rest = line[m.end():] if m else ""
        if not m or (m.group(2) is None and rest.strip()):
            problems.append((lineno, f"expected KEY=VALUE, found {_show(stripped)}"))
            continue
        key = m.group(1)
        if m.group(2) is None:
            env.pop(key, None)
            continue
        quote = rest[:1]
        if quote in ("'", '"'):
            body, end_line = _quoted(lines, i - 1, m.end() + 1, quote)
            if body is None:
                problems.append((lineno, f"unterminated {quote}-quoted value for {key}"))
                continue
            i = end_line + 1
            if quote == "'":
                env[key] = body
                continue
            value = _ESCAPE_ANY.sub(r"\1", _ESCAPE_NL.sub(lambda x: "\n" if x.group(1) == "n" else "\r", body))
        else:
            c = _INLINE_COMMENT.search(rest)
            value = (rest[:c.start()] if c else rest).rstrip()
        env[key] = _expand_lenient(value, env)
    return env, problems


def _quoted(lines: list[str], idx: int, col: int, quote: str) -> tuple[str | None, int]:
    """Text from ``lines[idx][col:]`` up to the closing quote (not preceded by a backslash),
    possibly on a later line -> (body, index of the closing line)."""
    parts = []
    text, start = lines[idx], col
    while True:
        j = start
        while True:
            j = text.find(quote, j)
            if j <= 0 or text[j - 1] != "\\":
                break
            j += 1
        if j >= 0:
            parts.append(text[start:j])
            return "\n".join(parts), idx
        parts.append(text[start:])
        idx += 1
        if idx >= len(lines):
            return None, idx
        text, start = lines[idx], 0


def _expand_lenient(value: str, env: dict) -> str:
    # compose-go's dotenv keeps a malformed expression as written rather than failing.
    try:
        return _expand(value, env, 0)[0]
    except InterpolationError:
        return value


def load_env_file(compose_path: str) -> tuple[dict, str, list[tuple[int, str]]]:
    """The ``.env`` beside a Compose file -> (variables, its path, problems).  A missing or
    unreadable file is no variables (Compose treats a missing one the same way)."""
    from ..source import DecodeError, decode

    path = os.path.join(os.path.dirname(compose_path), ".env")
    try:
        st = os.stat(path)
    except OSError:
        return {}, path, []
    key = (os.path.realpath(path), st.st_mtime_ns, st.st_size)
    hit = _cache.get(key)
    if hit is not None:
        return dict(hit[0]), path, hit[1]
    if not os.path.isfile(path):
        return {}, path, []
    if st.st_size > MAX_ENV_FILE_SIZE:
        return {}, path, [(None, f".env is larger than {MAX_ENV_FILE_SIZE // 1024} KB; not read")]
    try:
        with open(path, "rb") as fh:
            text = decode(fh.read(MAX_ENV_FILE_SIZE))
    except OSError as exc:
        return {}, path, [(None, f"cannot read .env: {exc.strerror or exc}")]
    except DecodeError as exc:
        return {}, path, [(exc.line, f"cannot decode .env: {exc.message}")]
    env, problems = parse_dotenv(text)
    _cache[key] = (env, problems)
    return dict(env), path, problems
