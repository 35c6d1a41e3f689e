"""The engine's two shortcuts must never change a result:

* regex prefilters (engine/prefilter.py): a pattern is skipped only when none of the literals
  every match must contain occurs in the text;
* the equality index (conditions.discriminator, used by run.run_checks): a check is only
  evaluated on resources whose discriminating field can make it true.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from linter.engine.checks import Check, builtin_checks_dir
from linter.engine.conditions import compile_condition, discriminator
from linter.engine.prefilter import guard, required_literals
from linter.engine.run import run_checks
from linter.facts import secrets

FIXTURES = Path(__file__).parent / "fixtures" / "checks"


def _builtin_patterns() -> list[str]:
    """Every regular expression of the built-in checks, plus the secret token formats."""
    import yaml

    found = []

    def walk(node):
        if isinstance(node, dict):
            for op in ("matches", "not_matches", "any_matches"):
                if isinstance(node.get(op), str):
                    found.append(node[op])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for f in sorted(builtin_checks_dir().glob("*.yaml")):
        walk(yaml.safe_load(f.read_text())["condition"])
    return found + [secrets._TOKENS.pattern]


TRICKY = [
    r"(?i)\b(curl|wget)\b[^|]*\|\s*sh",
    r"ab(cd)?ef",                 # optional group: "ab" and "ef" are required, "abcdef" is not
    r"x(foo|bar)*y",              # zero repeats allowed: foo/bar not required
    r"(foo|)bar",                 # an empty alternative: only "bar" is certain
    r"(?i:secret)_key",          # scoped folding in a case-sensitive pattern
    r"(?i)pass(?-i:WORD)",        # case-sensitive island in a folded pattern
    r"(?:gh[pousr]_\w+|github_pat_\w+)",
    r"(ab)\1cd",                  # a back-reference contributes nothing
    r"(?=token)\w+",              # look-ahead: nothing certain from it
    r"(?i)ssh",                   # 'ſ' (U+017F) folds to 's' under re.IGNORECASE
    r"(?i)kube",                  # 'K' (U+212A, Kelvin) folds to 'k'
    r"a{2,}bc",
]


def test_literals_are_the_ones_every_match_needs():
    assert required_literals(r"(?i)\b(curl|wget)\b") == {("curl", True), ("wget", True)}
    assert required_literals(r"(?:gh[pousr]_\w+|github_pat_\w+)") == {("gh", False), ("github_pat_", False)}
    assert required_literals(r"(?i:secret)_key") == {("secret", True)}  # folded: longer than "_key"
    assert required_literals(r"x(foo|bar)*y") is None          # nothing of length >= 2 is certain
    assert required_literals(r"(foo|)barbaz") == {("barbaz", False)}
    assert required_literals(r"[a-z]+\d") is None
    assert required_literals(r"(") is None                     # a bad pattern: no prefilter, no crash


def test_guard_folds_only_ascii_text():
    may = guard(r"(?i)ssh")
    assert may("run SSHD") and not may("run nothing")
    # re folds U+017F onto 's'; lower() does not -- non-ASCII text always goes to the regex
    assert re.search(r"(?i)ssh", "\u017fsh") and may("\u017fsh")


def _alphabet(pattern: str) -> str:
    letters = set(re.sub(r"\\[a-zA-Z]", "", pattern)) | set("aAsSkK \n|$(-_=:./")
    return "".join(sorted(letters)) + "\u017f\u212a\u0130"


@pytest.mark.parametrize("pattern", _builtin_patterns() + TRICKY)
def test_a_guard_never_rejects_a_match(pattern):
    rx = re.compile(pattern)
    may = guard(pattern)
    if may is None:
        return

    @settings(max_examples=300, derandomize=True, deadline=None)
    @given(st.lists(st.one_of(st.text(alphabet=_alphabet(pattern), max_size=6),
                              st.sampled_from(sorted(t for t, _ in required_literals(pattern)))),
                    max_size=12),
           st.booleans())
    def prop(parts, upper):
        text = "".join(parts)
        if upper:
            text = text.upper()
        if rx.search(text):
            assert may(text), (pattern, text)

    prop()


@pytest.mark.parametrize("text", ["curl -fsSL https://x | sh", "WGET -qO- http://x | bash",
                                  "ghp_" + "a" * 36, "github_pat_" + "a" * 22 + "_" + "b" * 59,
                                  "AKIA" + "A" * 16, "aws_secret_access_key = " + "a" * 40,
                                  "-----BEGIN RSA PRIVATE KEY-----"])
def test_known_positives_pass_their_guards(text):
    patterns = [p for p in _builtin_patterns() if re.search(p, text)]
    assert patterns
    for p in patterns:
        may = guard(p)
        assert may is None or may(text)


# --------------------------------------------------------------------------- equality index

def _check(cond) -> Check:
    raw = {"id": "TST001", "name": "t", "title": "t", "severity": "low", "target": "instruction",
           "condition": cond, "message": "m"}
    return Check(raw, "<test>", builtin=False)


def test_discriminators():
    run = {"field": "keyword", "equals": "RUN"}
    rx = {"field": "value", "matches": "sudo"}
    assert discriminator({"all": [rx, run]}, {}) == ("keyword", frozenset({"RUN"}))
    assert discriminator({"any": [{"all": [run, rx]}, {"all": [{"field": "keyword", "in": ["EXPOSE"]}, rx]}]},
                         {}) == ("keyword", frozenset({"RUN", "EXPOSE"}))
    # a branch without the field, a negation, a dotted field: no index
    assert discriminator({"any": [run, rx]}, {}) is None
    assert discriminator({"not": run}, {}) is None
    assert discriminator({"field": "image.tag", "equals": "latest"}, {}) is None
    assert discriminator({"field": "keyword", "in": {"param": "kw"}}, {"kw": ["ADD"]}) == \
        ("keyword", frozenset({"ADD"}))


def _fixture_resources():
    from linter.discover import Candidate
    from linter.parallel import make_units, parse_unit

    kinds = {".tf": "terraform", ".tfvars": "terraform-vars", ".yaml": "yaml", ".yml": "yaml"}
    cands = []
    for f in sorted(FIXTURES.rglob("*")):
        if not f.is_file() or f.name.startswith(".") or f.suffix in (".env", ".json"):
            continue
        kind = "dockerfile" if "ockerfile" in f.name else kinds.get(f.suffix)
        if kind:
            cands.append(Candidate(str(f), kind, f.stat().st_size))
    return [pf.resources for u in make_units(cands) for pf in parse_unit(u, 10**7)[0] if pf.resources]


def test_the_index_changes_no_finding_on_any_fixture(registry):
    checks = [c for c in registry if not c.cross_file]
    assert sum(c.index is not None for c in checks) >= 10
    plain = []
    for c in checks:
        twin = Check(c.raw, c.source, c.builtin, c.params)
        twin.index = None
        plain.append(twin)
    total = 0
    for resources in _fixture_resources():
        fast = sorted(repr(f) + f.resource for f in run_checks(checks, resources))
        slow = sorted(repr(f) + f.resource for f in run_checks(plain, resources))
        assert fast == slow
        total += len(fast)
    assert total > 500


def test_an_unknown_discriminating_value_never_fires():
    from linter.model import UNKNOWN, Instruction, Location

    check = _check({"all": [{"field": "keyword", "equals": "RUN"}, {"field": "value", "matches": "sudo"}]})
    ins = []
    for i, kw in enumerate(["RUN", UNKNOWN, "COPY", ["RUN"]]):
        x = Instruction("dockerfile", "Dockerfile", f"i{i}", Location("Dockerfile", i + 1), kw, "sudo make", 0, True)
        ins.append(x)
    assert [f.line for f in run_checks([check], ins)] == [1]
    assert compile_condition(check.raw["condition"], lambda d: None, {})(ins[1])[0] is None
