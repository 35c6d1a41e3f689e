"""Locations from the positions recorded by linter.yamlload, shared by the YAML-based parsers."""
from __future__ import annotations

import re

from ..model import Location

_PLAIN_WORD = re.compile(r"[A-Za-z][A-Za-z_.-]{0,15}")


def key_loc(path: str, d, key) -> Location | None:
    """The key, spanning to the end of its value when the value is on the same line."""
    if not d:
        return None  # most often the mappers' shared empty dict for an absent section: no lookup
    pos = getattr(d, "pos", None)
    if not pos or key not in pos:
        return None
    kl, kc, kec, vl, vc, vel, vec = pos[key]
    if vel == kl and vec > kc:
        return Location(path, kl, kc, kl, vec)
    return Location(path, kl, kc, kl, kec)


def value_loc(path: str, d, key) -> Location | None:
    pos = getattr(d, "pos", None)
    if not pos or key not in pos:
        return None
    _, _, _, vl, vc, vel, vec = pos[key]
    if vel != vl:
        vel, vec = vl, vc + 1
    return Location(path, vl, vc, vel, vec)


def item_loc(path: str, lst, i: int) -> Location | None:
    pos = getattr(lst, "pos", None)
    if not pos or i >= len(pos):
        return None
    l, c, el, ec = pos[i]
    if el != l:
        el, ec = l, c + 1
    return Location(path, l, c, el, ec)


def node_loc(path: str, node, fallback: Location | None = None) -> Location:
    line = getattr(node, "line", None)
    if line is None:
        return fallback or Location(path, 1, 1)
    return Location(path, line, getattr(node, "col", 1))


def typename(v) -> str:
    """How a wrong-typed value is named in a diagnostic; never quotes what could be a secret."""
    if v is None:
        return "nothing"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, bool):
        return f"the boolean {str(v).lower()}"
    if isinstance(v, (int, float)):
        return f"the number {v}"
    if isinstance(v, str):
        # Diagnostics are printed and uploaded (CI logs, SARIF): a string where a mapping was
        # meant may be `env: DB_PASSWORD=...`.  Quote only what cannot be a credential: a short
        # word (`web`, `root`) or a number; mask the rest.
        if _PLAIN_WORD.fullmatch(v) or v.isdigit():
            return f"the string {v!r}"
        from ..facts.secrets import mask

        return f"a string ({mask(v)!r}, {len(v)} characters)"
    return type(v).__name__
