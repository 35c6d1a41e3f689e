"""Literal prefilters for the condition language's regular expressions.

Python's ``re`` has no literal prefix to skip to in a pattern like ``(?i)\\b(curl|wget)\\b...``,
so it tries the whole pattern at every position of every RUN line: on the real corpus the
Dockerfile practice checks spent more time in ``re.search`` than dockerfile-parse spends
parsing.  Most such patterns cannot match unless one of a few literal strings occurs in the text
(``curl`` or ``wget``), and ``str.__contains__`` answers that in a fraction of the time.  This is
the idea of RE2's and ripgrep's prefilters, kept deliberately small: we derive, from the parsed
pattern, a set of literals at least one of which every match must contain, and only skip the
regex when none occurs.  Whenever the pattern has a construct the derivation does not
understand, that part contributes nothing; a pattern with nothing certain gets no prefilter.

Soundness: a literal comes only from ``LITERAL`` items on a path every match must take (in a
sequence, a repeat with a minimum of at least one, every branch of an alternation), so the
prefilter never rejects a string the pattern could match.  Under IGNORECASE only ASCII literals
are kept and only ASCII text is prefiltered (``str.isascii`` is O(1)): ``re`` folds some
non-ASCII letters onto ASCII ones (``ſ`` matches ``s``), which ``str.lower`` would not see.
"""
from __future__ import annotations

import sys
from typing import Callable

if sys.version_info >= (3, 11):
    from re import _constants as _C, _parser as _P
else:  # pragma: no cover - Python 3.10
    import sre_constants as _C
    import sre_parse as _P

#: shorter literals are not selective enough to be worth a containment test
_MIN_LENGTH = 2

_REPEATS = tuple(getattr(_C, n) for n in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") if hasattr(_C, n))
_ATOMIC = getattr(_C, "ATOMIC_GROUP", None)
_IGNORECASE = _C.SRE_FLAG_IGNORECASE


def required_literals(pattern: str) -> frozenset | None:
    """A set of ``(text, folded)`` literals such that every match of ``pattern`` contains one of
    them (a folded literal is lower-case ASCII, to be found in the lower-cased text), or None
    when no such set is certain."""
    try:
        parsed = _P.parse(pattern)
    except Exception:  # noqa: BLE001 - the caller compiles the pattern and reports errors itself
        return None
    found = _sequence(list(parsed), bool(parsed.state.flags & _IGNORECASE))
    if not found or min(len(text) for text, _ in found) < _MIN_LENGTH:
        return None
    return found


def _better(a: frozenset | None, b: frozenset | None) -> frozenset | None:
    """The more selective requirement: longer shortest literal, then fewer alternatives."""
    if not a:
        return b
    if not b:
        return a
    ka = (min(len(t) for t, _ in a), -len(a))
    kb = (min(len(t) for t, _ in b), -len(b))
    return a if ka >= kb else b


def _sequence(items: list, fold: bool) -> frozenset | None:
    """Best requirement of a concatenation: a run of consecutive literals is one required
    string; any other item that is itself required may offer a better set."""
    best: frozenset | None = None
    run: list[str] = []

    def close_run():
        nonlocal best, run
        if run:
            best = _better(best, frozenset({("".join(run), fold)}))
            run = []

    for op, av in items:
        if op is _C.LITERAL:
            ch = chr(av)
            if fold and not ch.isascii():
                close_run()
                continue
            run.append(ch.lower() if fold else ch)
            continue
        if op is _C.BRANCH and run:
            # the parser factors a common prefix out of alternatives (``gh_|github_pat_`` is
            # ``g`` + a branch); glue the run back onto each alternative's leading literal
            heads = [_leading(list(alternative), fold) for alternative in av[1]]
            if all(heads):
                joined = "".join(run)
                best = _better(best, frozenset((joined + h, fold) for h in heads))
        close_run()
        best = _better(best, _item(op, av, fold))
    close_run()
    return best


def _leading(items: list, fold: bool) -> str:
    out = []
    for op, av in items:
        if op is not _C.LITERAL:
            break
        ch = chr(av)
        if fold and not ch.isascii():
            break
        out.append(ch.lower() if fold else ch)
    return "".join(out)


def _item(op, av, fold: bool) -> frozenset | None:
    if op is _C.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if add_flags & _IGNORECASE:
            fold = True
        elif del_flags & _IGNORECASE:
            # (?-i:...) inside a folded pattern: comparing its literals folded stays sound
            pass
        return _sequence(list(sub), fold)
    if _ATOMIC is not None and op is _ATOMIC:
        return _sequence(list(av), fold)
    if op in _REPEATS:
        low, _high, sub = av
        return _sequence(list(sub), fold) if low >= 1 else None
    if op is _C.BRANCH:
        union: set = set()
        for alternative in av[1]:
            got = _sequence(list(alternative), fold)
            if not got:
                return None  # one alternative needs no literal: nothing is required
            union |= got
        return frozenset(union)
    return None  # classes, anchors, look-arounds, back-references: no literal certain


def guard(pattern: str) -> Callable[[str], bool] | None:
    """A function that is False only for strings ``pattern`` cannot match (None: no prefilter)."""
    literals = required_literals(pattern)
    if literals is None:
        return None
    # a literal that contains another of the same kind is implied by it: test only the shorter
    kept = [(t, f) for t, f in literals if not any((u, g) != (t, f) and g == f and u in t for u, g in literals)]
    exact = tuple(sorted(t for t, f in kept if not f))
    folded = tuple(sorted(t for t, f in kept if f))
    if not folded:
        if len(exact) == 1:
            needle = exact[0]
            return lambda v: needle in v
        return lambda v: any(n in v for n in exact)

    def may_match(v: str) -> bool:
        if any(n in v for n in exact):
            return True
        if not v.isascii():
            return True
        low = v.lower()
        return any(n in low for n in folded)
    return may_match
