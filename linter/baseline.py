"""Baselines: record today's findings, then report only new ones.

``iaclint scan --write-baseline FILE`` stores one entry per unsuppressed finding; ``--baseline
FILE`` (or the ``baseline`` configuration key) marks findings that match an entry as suppressed
(kind ``external``) and lists the entries nothing matched any more ("stale": fixed, so the
baseline can shrink).

Matching uses linter.fingerprint's logical fingerprint: rule id, path, resource identity and the
offending line's text with whitespace normalized -- not the line number, so adding lines above a
finding keeps it baselined, while editing the offending line makes it new.  Paths are stored
relative to the baseline file's directory, so the baseline works whatever directory the scan is
started from.  No line text is stored, only its hash inside the fingerprint; messages are
stored for the reader and never hold a secret value (settings are masked when rendered).
"""
from __future__ import annotations

import json
import os

from .model import Location, Suppression

FORMAT_VERSION = 1


class BaselineError(Exception):
    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def _rel(path: str, base: str) -> str:
    return os.path.relpath(os.path.abspath(path), base).replace(os.sep, "/")


def _line_texts(findings) -> dict:
    from .source import DecodeError, decode

    texts: dict[str, list[str]] = {}
    for f in findings:
        if f.path not in texts:
            try:
                with open(f.path, "rb") as fh:
                    texts[f.path] = decode(fh.read()).split("\n")
            except (OSError, DecodeError):
                texts[f.path] = []
    return texts


def fingerprints(findings, base: str) -> list[str]:
    """One fingerprint per finding, in the order given (report order numbers the twins)."""
    from .fingerprint import logical_fingerprints

    texts = _line_texts(findings)
    keys = []
    for f in findings:
        lines = texts[f.path]
        text = lines[f.line - 1] if 0 < f.line <= len(lines) else ""
        keys.append((f.rule_id, _rel(f.path, base), f.resource or "", text))
    return logical_fingerprints(keys)


class Baseline:
    def __init__(self, path: str, entries: list[dict]):
        self.path = path
        self.base = os.path.dirname(os.path.abspath(path))
        self.entries = entries
        self.matched = 0
        self.stale: list[dict] = []
        self.suppression = Suppression("baseline", path, "baseline", Location(path, 1), "baseline", "baseline",
                                       "external")

    @classmethod
    def load(cls, path: str) -> "Baseline":
        try:
            with open(path, encoding="utf-8") as fh:
                doc = json.load(fh)
        except FileNotFoundError:
            raise BaselineError(path, "baseline file does not exist (create it with --write-baseline)") from None
        except OSError as exc:
            raise BaselineError(path, f"cannot read baseline: {exc.strerror or exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BaselineError(path, f"not a baseline file (invalid JSON: {exc})") from None
        if not isinstance(doc, dict) or doc.get("iaclint_baseline") != FORMAT_VERSION \
                or not isinstance(doc.get("findings"), list):
            raise BaselineError(path, f"not an iaclint baseline (expected {{\"iaclint_baseline\": {FORMAT_VERSION}, "
                                      "\"findings\": [...]}})")
        entries = []
        for i, e in enumerate(doc["findings"]):
            if not isinstance(e, dict) or not isinstance(e.get("fingerprint"), str):
                raise BaselineError(path, f"findings[{i}] has no fingerprint")
            entries.append(e)
        return cls(path, entries)

    def apply(self, findings) -> None:
        """Mark the unsuppressed findings the baseline holds; remember the entries left over."""
        remaining: dict[str, list[dict]] = {}
        for e in self.entries:
            remaining.setdefault(e["fingerprint"], []).append(e)
        fps = fingerprints(findings, self.base)
        for f, fp in zip(findings, fps):
            if f.suppression is not None and f.suppression is not self.suppression:
                continue
            bucket = remaining.get(fp)
            if bucket:
                bucket.pop()
                f.suppression = self.suppression
                self.matched += 1
        self.stale = [e for bucket in remaining.values() for e in bucket]
        self.stale.sort(key=lambda e: (str(e.get("path")), e.get("line") or 0, str(e.get("rule_id"))))
        self.suppression.used = self.matched > 0

    def summary_notes(self) -> list[str]:
        notes = []
        if self.matched:
            notes.append(f"{self.matched} baselined finding{'s' if self.matched != 1 else ''} not shown "
                         f"({self.path})")
        if self.stale:
            n = len(self.stale)
            notes.append(f"{n} baseline entr{'ies' if n != 1 else 'y'} no longer found (fixed? "
                         "rewrite it with --write-baseline to shrink it)")
        return notes

    def json_extra(self) -> dict:
        return {"baseline": {"path": self.path, "baselined": self.matched, "stale_count": len(self.stale),
                             "stale": self.stale}}


def write(path: str, findings, version: str) -> int:
    """Record every finding not suppressed otherwise (baselined ones are kept); return the count."""
    from .report import write_atomic

    base = os.path.dirname(os.path.abspath(path))
    ordered = list(findings)
    fps = fingerprints(ordered, base)
    entries = []
    for f, fp in zip(ordered, fps):
        s = f.suppression
        if s is not None and getattr(s, "source", None) != "baseline":
            continue
        entries.append({"fingerprint": fp, "rule_id": f.rule_id, "rule_name": f.rule_name, "path": _rel(f.path, base),
                        "resource": f.resource, "line": f.line, "message": f.message})
    entries.sort(key=lambda e: (e["path"], e["line"], e["rule_id"], e["fingerprint"]))
    doc = {"iaclint_baseline": FORMAT_VERSION, "generated_by": f"iaclint {version}",
           "note": "findings recorded by `iaclint scan --write-baseline`; matched by fingerprint, not by line",
           "findings": entries}
    write_atomic(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return len(entries)
