"""Fingerprints that let code-scanning services follow a finding across commits.

Two kinds, both written into SARIF ``partialFingerprints``:

- :func:`line_hashes` reproduces GitHub's ``primaryLocationLineHash`` exactly as the
  codeql-action upload computes it (``src/fingerprints.ts`` in github/codeql-action): a rolling
  polynomial hash (base 37, modulo 2**64) over the 100 non-blank UTF-16 code units that start at a
  line, with ``\\r``, ``\\n`` and ``\\r\\n`` all counted as one line break, then
  ``:<occurrence>`` so that identical lines stay distinct.  If we sent a different value the
  upload would keep ours and log a warning for every result, so it must match bit for bit.
- :func:`logical_fingerprint` is our own (``iaclint/v1``): rule, path, resource identity and the
  offending line's text with whitespace normalized, but not the line number, so adding lines
  above a finding does not turn it into a "new" alert.  GitLab Code Quality uses it too.
"""
from __future__ import annotations

import hashlib
import sys
from array import array
from typing import Iterable

LOGICAL_KEY = "iaclint/v1"
GITHUB_KEY = "primaryLocationLineHash"

_BLOCK = 100
_MASK = (1 << 64) - 1
_BASE = 37
_FIRST_MOD = pow(_BASE, _BLOCK, 1 << 64)
_EOF = 0xFFFF
_LF = 0x0A


def _units(text: str) -> array:
    """The code units the hash reads: blanks dropped, CR and CRLF folded into LF.

    GitHub's loop skips spaces and tabs, turns a CR into LF and skips an LF right after a CR;
    a blank between CR and LF resets that, so ``"\\r \\n"`` is two breaks.  Replacing ``\\r\\n``
    first, then ``\\r``, then deleting blanks gives the same sequence.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace(" ", "").replace("\t", "")
    # JavaScript strings are UTF-16: an astral character is two code units (a surrogate pair).
    units = array("H")
    units.frombytes(text.encode("utf-16-le" if sys.byteorder == "little" else "utf-16-be", "surrogatepass"))
    return units


def line_hashes(source: bytes | str, lines: Iterable[int] | None = None) -> dict[int, str]:
    """``primaryLocationLineHash`` for the given 1-based lines (every line when ``lines`` is None).

    ``source`` is the file as stored: bytes are decoded as UTF-8 with replacement characters and
    a BOM is kept, as Node's ``fs.readFileSync(path).toString()`` does.  Lines past the end of the
    file are left out of the result.
    """
    text = source.decode("utf-8", "replace") if isinstance(source, (bytes, bytearray)) else source
    units = _units(text)
    wanted = None if lines is None else set(lines)
    # Line k starts at the first code unit after the (k-1)-th line feed; the sentinel that marks
    # the end of the file starts the last line when the file ends with a line break.
    seq = units.tolist()
    starts = [0]
    starts.extend(i + 1 for i, u in enumerate(seq) if u == _LF)
    last = len(starts) if wanted is None else min(len(starts), max(wanted, default=0))
    if last <= 0:
        return {}
    # Prefix hashes P[i] = hash of units[:i]; the window hash of [p, p+100) is
    # P[p+100] - P[p] * 37**100 (mod 2**64), which is what the rolling update yields.
    end = starts[last - 1] + _BLOCK
    del seq[end:]
    if len(seq) < end:
        seq.append(_EOF)
        seq.extend([0] * (end - len(seq)))
    prefix = [0] * (len(seq) + 1)
    h = 0
    for i, c in enumerate(seq, 1):
        h = (h * _BASE + c) & _MASK
        prefix[i] = h
    counts: dict[str, int] = {}
    out: dict[int, str] = {}
    for number in range(1, last + 1):
        p = starts[number - 1]
        value = format((prefix[p + _BLOCK] - prefix[p] * _FIRST_MOD) & _MASK, "x")
        counts[value] = counts.get(value, 0) + 1
        if wanted is None or number in wanted:
            out[number] = f"{value}:{counts[value]}"
    return out


def normalize_line(text: str) -> str:
    """Whitespace-insensitive form of a source line: indentation and spacing changes keep the fingerprint."""
    return " ".join(text.split())


def logical_fingerprint(rule_id: str, path: str, resource: str, line_text: str, occurrence: int = 1) -> str:
    """Stable identity of a finding; ``occurrence`` (1-based) separates otherwise identical findings
    and is only mixed in from the second one on, so the first keeps its value when a twin appears."""
    material = "\0".join(("iaclint/v1", rule_id, path, resource, normalize_line(line_text)))
    if occurrence > 1:
        material += f"\0{occurrence}"
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def logical_fingerprints(keys: Iterable[tuple[str, str, str, str]]) -> list[str]:
    """Fingerprints for ``(rule_id, path, resource, line_text)`` tuples given in report order,
    numbering duplicates in that order."""
    seen: dict[tuple, int] = {}
    out = []
    for key in keys:
        norm = (key[0], key[1], key[2], normalize_line(key[3]))
        seen[norm] = seen.get(norm, 0) + 1
        out.append(logical_fingerprint(*key, occurrence=seen[norm]))
    return out
