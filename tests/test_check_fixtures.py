"""Annotated fixtures, Semgrep style: every file under tests/fixtures/checks/<check-name>/ is
scanned with that check alone.  A comment ``# expect: <check-name>`` means the next
non-comment line must carry a finding of that check; ``# ok: <check-name>`` means it must not.
Every finding of the check must be expected, and every fixture must hold at least one
annotation (so a fixture cannot silently test nothing)."""
import os
import re
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "checks"
ANNOTATION = re.compile(r"(?:#|//)\s*(expect|ok):\s*([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)")


def _fixture_units():
    """One unit per file, except Terraform: one unit per directory (a module)."""
    units = []
    if not FIXTURES.is_dir():
        return units
    for check_dir in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        for root, dirs, files in os.walk(check_dir):
            dirs.sort()
            tf = sorted(f for f in files if f.endswith((".tf", ".tfvars")))
            if tf:
                units.append((check_dir.name, Path(root), [Path(root) / f for f in tf]))
            for f in sorted(files):
                if not f.endswith((".tf", ".tfvars", ".env")) and not f.startswith("."):
                    units.append((check_dir.name, Path(root) / f, [Path(root) / f]))
    return units


def _annotations(files):
    expected, ok = {}, {}
    for f in files:
        lines = f.read_text().split("\n")
        pending = []
        for i, line in enumerate(lines, 1):
            m = ANNOTATION.search(line)
            stripped = line.strip()
            if m and (stripped.startswith("#") or stripped.startswith("//")):
                for name in re.split(r"\s*,\s*", m.group(2)):
                    pending.append((m.group(1), name))
                continue
            if stripped and not stripped.startswith(("#", "//")):
                for kind, name in pending:
                    (expected if kind == "expect" else ok).setdefault((str(f), i), set()).add(name)
                pending = []
    return expected, ok


UNITS = _fixture_units()


@pytest.mark.parametrize("check_name,target,files", UNITS,
                         ids=[f"{c}:{t.relative_to(FIXTURES / c)}" for c, t, _ in UNITS])
def test_fixture(check_name, target, files, registry):
    from linter.scan import ScanOptions, scan

    check = registry.get(check_name)
    assert check is not None, f"fixture directory names an unknown check: {check_name}"
    expected, ok = _annotations(files)
    relevant = {k: v for k, v in expected.items() if check_name in v}
    assert expected or ok, f"{target}: no '# expect:' or '# ok:' annotation"
    result = scan(ScanOptions(paths=[str(target)], checks=[check]))
    errors = [d for d in result.diagnostics if d.level == "error"]
    assert not errors, f"fixture does not parse cleanly: {errors}"
    got = {}
    for f in result.findings:
        got.setdefault((f.path, f.line), []).append(f)
    for key in relevant:
        assert key in got, f"{key[0]}:{key[1]}: expected a {check_name} finding, got none"
    for key, names in ok.items():
        if check_name in names:
            assert key not in got, f"{key[0]}:{key[1]}: unexpected {check_name}: {got[key][0].message}"
    for key, fs in got.items():
        assert key in relevant, f"{key[0]}:{key[1]}: unannotated {check_name} finding: {fs[0].message}"
