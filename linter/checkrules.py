"""``iaclint check-rules DIR``: validate user-written checks and run their inline examples.

A check may carry ``examples: {positive: [...], negative: [...]}``, each ``{format, content,
filename?}``.  Each example is written alone into a fresh temporary directory under a name its
format's parser recognizes, and scanned with the check alone: a positive example must give at
least one finding of the check, a negative example none (and neither may fail to parse, or the
verdict would mean nothing).
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field

FILENAMES = {"dockerfile": "Dockerfile", "compose": "compose.yaml", "kubernetes": "manifest.yaml",
             "terraform": "main.tf"}


@dataclass
class Outcome:
    check: object
    passed: int = 0
    failures: list = field(default_factory=list)   # messages

    @property
    def total(self) -> int:
        return self.passed + len(self.failures)


def run_example(check, example: dict, positive: bool) -> str | None:
    """None when the example behaves as declared, else why not."""
    from .scan import ScanOptions, scan

    fmt = example["format"]
    name = os.path.basename(example.get("filename") or FILENAMES[fmt])
    with tempfile.TemporaryDirectory(prefix="iaclint-example-") as tmp:
        with open(os.path.join(tmp, name), "w", encoding="utf-8") as fh:
            fh.write(example["content"])
        result = scan(ScanOptions(paths=[tmp], checks=[check]))
    errors = [d for d in result.diagnostics if d.level == "error"]
    if errors:
        d = errors[0]
        return f"{name} does not parse: line {d.line or '?'}: {d.message}"
    if result.files_scanned == 0:
        return f"{name} is not a file iaclint scans as {fmt} (set filename)"
    hits = [f for f in result.findings if f.rule_id == check.id]
    if positive and not hits:
        return "expected a finding, got none"
    if not positive and hits:
        return f"expected no finding, got line {hits[0].line}: {hits[0].message}"
    return None


def run(checks) -> list[Outcome]:
    outcomes = []
    for c in checks:
        out = Outcome(c)
        for kind in ("positive", "negative"):
            for i, ex in enumerate(c.examples.get(kind) or []):
                problem = run_example(c, ex, kind == "positive")
                if problem is None:
                    out.passed += 1
                else:
                    out.failures.append(f"{kind}[{i}] ({ex['format']}): {problem}")
        outcomes.append(out)
    return outcomes


def render(outcomes: list[Outcome]) -> str:
    width = max([len(o.check.name) for o in outcomes] + [5])
    lines = [f"{'ID':<10} {'CHECK':<{width}}  {'EXAMPLES':>8}  RESULT"]
    for o in outcomes:
        result = "no examples" if o.total == 0 else "pass" if not o.failures else "FAIL"
        lines.append(f"{o.check.id:<10} {o.check.name:<{width}}  {o.total:>8}  {result}")
        for msg in o.failures:
            lines.append(f"{'':<10} {'':<{width}}  {'':>8}  - {msg}  ({o.check.source})")
    failed = sum(1 for o in outcomes if o.failures)
    lines.append(f"{len(outcomes)} check{'s' if len(outcomes) != 1 else ''}, "
                 f"{sum(o.total for o in outcomes)} examples, {failed} failing")
    return "\n".join(lines) + "\n"
