"""linter/schemas/config.schema.json is the contract (IDEs validate against it); linter.schemalite
enforces it at run time without importing jsonschema.  These tests keep the two in step."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "linter" / "schemas" / "config.schema.json").read_text())


def test_schema_is_valid_draft_2020_12():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["additionalProperties"] is False


def test_schemalite_understands_every_keyword_the_schema_uses():
    from linter.schemalite import ANNOTATIONS, KEYWORDS, schema_keywords

    unknown = schema_keywords(SCHEMA) - KEYWORDS - ANNOTATIONS
    assert not unknown, f"config.schema.json uses keywords linter.schemalite does not enforce: {unknown}"


def test_every_default_is_valid_and_every_key_has_a_default():
    from linter.config import DEFAULTS

    assert set(DEFAULTS) == set(SCHEMA["properties"])


CASES = [
    {},
    {"select": ["IAC101", "run-as-root"], "ignore": [], "fail-on": "high", "format": "json"},
    {"format": ["text", "sarif:out.sarif"], "checks-dir": "checks", "max-file-size": 5, "gitignore": False},
    {"per-path-ignores": {"a/**": ["IAC101"],
                          "b/*.yaml": {"checks": ["IAC102"], "reason": "r", "until": "2027-01-31"}}},
    {"severity": {"run-as-root": "critical"}, "params": {"untrusted-registry": {"trusted-registries": ["x"]}}},
    {"secrets": {"allow": ["^EXAMPLE_"]}, "baseline": ".iaclint-baseline.json", "exclude": ["vendor/"]},
    # invalid
    {"selct": ["IAC101"]},
    {"select": "IAC101"},
    {"select": [1]},
    {"select": [""]},
    {"fail-on": "urgent"},
    {"format": "xml"},
    {"format": []},
    {"per-path-ignores": {"a": "IAC101"}},
    {"per-path-ignores": {"a": {"reason": "no checks"}}},
    {"per-path-ignores": {"a": {"checks": ["x"], "until": "tomorrow"}}},
    {"per-path-ignores": {"a": {"checks": ["x"], "extra": 1}}},
    {"severity": {"x": "urgent"}},
    {"params": {"x": [1]}},
    {"secrets": {"deny": []}},
    {"secrets": {"allow": ["(unclosed"]}},
    {"gitignore": "no"},
    {"max-file-size": 0},
    {"max-file-size": True},
    {"baseline": 3},
    {"checks-dir": [3]},
]


@pytest.mark.parametrize("doc", CASES, ids=[json.dumps(c)[:60] for c in CASES])
def test_schemalite_agrees_with_jsonschema(doc):
    import jsonschema

    from linter.schemalite import Validator

    reference = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    expected = not list(reference.iter_errors(doc))
    got = list(Validator(SCHEMA).errors(doc))
    assert (not got) == expected, (got, [e.message for e in reference.iter_errors(doc)])
