"""Configuration files: discovery, the keys, command-line overrides, `iaclint config`, and the
error for every kind of bad configuration (file, line, key; exit 2)."""
from __future__ import annotations

import json
import textwrap

import pytest
from typer.testing import CliRunner

from linter.cli import app

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
    - name: app
      image: nginx:latest
      securityContext: {privileged: true}
"""
DOCKERFILE = "FROM nginx:latest\nENV EXAMPLE_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n" \
             "ENV GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789\nUSER 10001\n"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A git checkout (a .git directory marks the root) as the current directory."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)

    def write(files: dict):
        for name, content in files.items():
            p = tmp_path / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(textwrap.dedent(content))
        return tmp_path

    return write


def cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def findings(result) -> list[dict]:
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    return json.loads(result.stdout)["findings"]


def active(result) -> set:
    return {(f["rule_name"], f["path"]) for f in findings(result) if not f["suppressed"]}


# -- discovery --------------------------------------------------------------------------------

def test_found_by_walking_up_and_stops_at_the_repository_root(repo, tmp_path):
    from linter.config import find_config

    repo({".iaclint.yaml": "fail-on: high\n", "k8s/prod/pod.yaml": POD})
    assert find_config(str(tmp_path / "k8s" / "prod" / "pod.yaml")) == str(tmp_path / ".iaclint.yaml")
    (tmp_path / "k8s" / ".git").mkdir()   # a nested repository: the search stops there
    assert find_config(str(tmp_path / "k8s" / "prod")) is None


def test_precedence_in_one_directory_and_pyproject_without_table(repo, tmp_path):
    from linter.config import find_config

    repo({"pyproject.toml": "[project]\nname = 'x'\n"})
    assert find_config(str(tmp_path)) is None
    repo({"pyproject.toml": "[tool.iaclint]\nfail-on = 'high'\n"})
    assert find_config(str(tmp_path)).endswith("pyproject.toml")
    repo({".iaclint.toml": "fail-on = 'high'\n"})
    assert find_config(str(tmp_path)).endswith(".iaclint.toml")
    repo({".iaclint.yaml": "fail-on: high\n"})
    assert find_config(str(tmp_path)).endswith(".iaclint.yaml")


@pytest.mark.parametrize("name,text", [
    (".iaclint.yaml", "select: [privileged-container, unpinned-image]\nseverity: {unpinned-image: info}\n"
                      "per-path-ignores:\n  'legacy/**':\n    checks: [IAC102]\n    until: 2099-12-31\n"),
    (".iaclint.toml", "select = ['privileged-container', 'unpinned-image']\nseverity = {unpinned-image = 'info'}\n"
                      "[per-path-ignores.'legacy/**']\nchecks = ['IAC102']\nuntil = 2099-12-31\n"),
    ("pyproject.toml", "[project]\nname = 'x'\n\n[tool.iaclint]\nselect = ['privileged-container', 'unpinned-image']\n"
                       "[tool.iaclint.severity]\nunpinned-image = 'info'\n"
                       "[tool.iaclint.per-path-ignores.'legacy/**']\nchecks = ['IAC102']\nuntil = 2099-12-31\n"),
])
def test_the_three_file_kinds_mean_the_same(repo, name, text):
    repo({name: text, "pod.yaml": POD, "legacy/pod.yaml": POD})
    r = cli("scan", "-f", "json")
    fs = findings(r)
    assert {(f["rule_name"], f["path"], f["severity"], f["suppressed"]) for f in fs} == {
        ("privileged-container", "pod.yaml", "critical", False),
        ("privileged-container", "legacy/pod.yaml", "critical", True),
        ("unpinned-image", "pod.yaml", "info", False),
        ("unpinned-image", "legacy/pod.yaml", "info", False)}
    sup = next(f["suppression"] for f in fs if f["suppressed"])
    assert sup["kind"] == "external" and sup["source"] == "config"


def test_explicit_config_flag_replaces_the_search(repo, tmp_path):
    repo({".iaclint.yaml": "select: [unpinned-image]\n", "ci/strict.yaml": "select: [privileged-container]\n",
          "pod.yaml": POD})
    assert {n for n, _ in active(cli("scan", "-f", "json"))} == {"unpinned-image"}
    assert {n for n, _ in active(cli("scan", "-f", "json", "--config", "ci/strict.yaml"))} == {"privileged-container"}
    r = cli("scan", "--config", "missing.yaml")
    assert r.exit_code == 2 and "missing.yaml: configuration file does not exist" in r.stderr


# -- keys -----------------------------------------------------------------------------------------

def test_command_line_overrides_the_file_and_config_shows_origins(repo, tmp_path):
    repo({".iaclint.yaml": "select: [privileged-container]\nfail-on: critical\nformat: json\n", "pod.yaml": POD})
    r = cli("scan")
    assert r.stdout.lstrip().startswith("{")          # format from the file
    assert r.exit_code == 1                            # privileged-container is critical
    r = cli("scan", "--select", "unpinned-image")      # medium < critical: passes
    assert r.exit_code == 0 and json.loads(r.stdout)["findings"][0]["rule_name"] == "unpinned-image"
    r = cli("config", "--fail-on", "medium", "--json")
    doc = json.loads(r.stdout)
    assert doc["file"] == str(tmp_path / ".iaclint.yaml")
    assert doc["values"]["fail-on"] == {"value": "medium", "origin": "command line"}
    assert doc["values"]["select"] == {"value": ["privileged-container"], "origin": str(tmp_path / ".iaclint.yaml")}
    assert doc["values"]["exclude"] == {"value": [], "origin": "default"}
    text = cli("config").stdout
    assert text.startswith(f"# configuration file: {tmp_path / '.iaclint.yaml'}")
    assert any(line.startswith("fail-on") and line.endswith(f"# {tmp_path / '.iaclint.yaml'}")
               for line in text.splitlines())


def test_ignore_severity_and_fail_on(repo):
    repo({".iaclint.yaml": "ignore: [IAC102]\nseverity: {unpinned-image: critical}\nfail-on: critical\n",
          "pod.yaml": POD})
    r = cli("scan", "-f", "json")
    fs = findings(r)
    assert "privileged-container" not in {f["rule_name"] for f in fs}
    assert {f["severity"] for f in fs if f["rule_name"] == "unpinned-image"} == {"critical"}
    assert r.exit_code == 1


def test_per_path_ignores_globs_and_expiry_warning(repo, tmp_path):
    repo({".iaclint.yaml": """\
            select: [privileged-container, unpinned-image]
            per-path-ignores:
              "k8s/dev/*.yaml": [privileged-container]
              "**/legacy/": [unpinned-image]
              "k8s/old/**":
                checks: [unpinned-image]
                reason: migrated next quarter
                until: 2001-01-01
            """,
          "k8s/dev/pod.yaml": POD, "k8s/prod/pod.yaml": POD, "apps/legacy/x/pod.yaml": POD, "k8s/old/pod.yaml": POD})
    r = cli("scan", "-f", "json")
    assert active(r) == {("privileged-container", "k8s/prod/pod.yaml"), ("unpinned-image", "k8s/prod/pod.yaml"),
                         ("unpinned-image", "k8s/dev/pod.yaml"), ("privileged-container", "apps/legacy/x/pod.yaml"),
                         ("privileged-container", "k8s/old/pod.yaml"), ("unpinned-image", "k8s/old/pod.yaml")}
    [w] = [e for e in json.loads(r.stdout)["errors"] if e["level"] == "warning"]
    assert w["path"] == str(tmp_path / ".iaclint.yaml") and w["line"] == 5
    assert "expired on 2001-01-01" in w["message"]


def test_exclude_and_gitignore(repo):
    repo({".iaclint.yaml": "select: [privileged-container]\nexclude: ['vendor-charts/', '*.generated.yaml']\n",
          ".gitignore": "build/\n!build/keep.yaml\n", "pod.yaml": POD, "vendor-charts/pod.yaml": POD,
          "out.generated.yaml": POD, "build/pod.yaml": POD, "sub/.gitignore": "local.yaml\n",
          "sub/local.yaml": POD, "sub/pod.yaml": POD})
    assert {p for _, p in active(cli("scan", "-f", "json"))} == {"pod.yaml", "sub/pod.yaml"}
    assert {p for _, p in active(cli("scan", "-f", "json", "--no-gitignore"))} == {
        "pod.yaml", "sub/pod.yaml", "build/pod.yaml", "sub/local.yaml"}


def test_params_override_a_checks_default(repo):
    repo({".iaclint.yaml": "select: [untrusted-registry]\n"
                           "params: {untrusted-registry: {trusted-registries: [registry.acme.io]}}\n",
          "Dockerfile": "FROM registry.acme.io/base:1\nFROM nginx:1.27\n"})
    fs = findings(cli("scan", "-f", "json"))
    assert [f["line"] for f in fs] == [2]


def test_secret_allow_list(repo):
    repo({".iaclint.yaml": "select: [plaintext-secret]\nsecrets: {allow: ['^EXAMPLE_']}\n", "Dockerfile": DOCKERFILE})
    fs = findings(cli("scan", "-f", "json"))
    assert {(f["line"], f["suppressed"]) for f in fs} == {(2, True), (3, False)}


def test_checks_dir_relative_to_the_file(repo, tmp_path):
    repo({"policy/checks/acme.yaml": ACME_CHECK, ".iaclint.yaml": "checks-dir: policy/checks\nselect: [ACME001]\n",
          "deploy/Dockerfile": "FROM nginx:1.27\nUSER 1\n"})
    r = cli("scan", "deploy", "-f", "json")
    assert [f["rule_id"] for f in findings(r)] == ["ACME001"]
    assert "ACME001" in cli("rules").stdout


ACME_CHECK = """\
id: ACME001
name: acme-registry-only
title: Image does not come from registry.acme.io
severity: high
target: image
condition:
  not:
    field: registry
    equals: registry.acme.io
message: "image '{reference}' does not come from registry.acme.io"
description: d
rationale: r
remediation: x
references: [{title: policy}]
"""


# -- errors: file, line, key, exit 2 ----------------------------------------------------------

@pytest.mark.parametrize("name,text,expected", [
    (".iaclint.yaml", "select: [IAC101]\nselct: [IAC102]\n",
     ".iaclint.yaml:2: selct: unknown key 'selct' (known keys: baseline, checks-dir, exclude, fail-on, format, "
     "gitignore, ignore, max-file-size, params, per-path-ignores, secrets, select, severity)"),
    (".iaclint.yaml", "fail-on: high\nselect: IAC101\n", ".iaclint.yaml:2: select: expected a list, found the string "
                                                         "'IAC101'"),
    (".iaclint.yaml", "select:\n  - IAC101\n  - IAC999\n",
     ".iaclint.yaml:3: select[1]: unknown check 'IAC999' (see `iaclint rules`)"),
    (".iaclint.yaml", "severity:\n  run-as-root: urgent\n",
     ".iaclint.yaml:2: severity.run-as-root: must be one of critical, high, medium, low, info; found the string "
     "'urgent'"),
    (".iaclint.yaml", "severity:\n  run-as-rot: high\n", ".iaclint.yaml:2: severity.run-as-rot: unknown check "
                                                         "'run-as-rot'"),
    (".iaclint.yaml", "per-path-ignores:\n  'a/**':\n    checks: [IAC101]\n    untill: 2027-01-01\n",
     '.iaclint.yaml:4: per-path-ignores."a/**".untill: unknown key \'untill\' (known keys: checks, reason, until)'),
    (".iaclint.yaml", "per-path-ignores:\n  'a/**':\n    checks: [IAC101]\n    until: 31.12.2027\n",
     ".iaclint.yaml:4: per-path-ignores.\"a/**\".until: '31.12.2027' is not a date (expected YYYY-MM-DD)"),
    (".iaclint.yaml", "per-path-ignores:\n  'a/**': [IAC101, nope]\n",
     ".iaclint.yaml:2: per-path-ignores.\"a/**\"[1]: unknown check 'nope'"),
    (".iaclint.yaml", "secrets:\n  allow: ['(unclosed']\n",
     ".iaclint.yaml:2: secrets.allow[0]: bad regular expression '(unclosed'"),
    (".iaclint.yaml", "params:\n  unpinned-image: {registries: [x]}\n",
     ".iaclint.yaml:2: params.unpinned-image.registries: check unpinned-image has no parameter 'registries' "
     "(parameters: none)"),
    (".iaclint.yaml", "format: [text, xml]\n", ".iaclint.yaml:1: format[1]: invalid value 'xml' (expected text, json, "
                                               "sarif, junit, github or gitlab, optionally followed by :PATH)"),
    (".iaclint.yaml", "max-file-size: 0\n", ".iaclint.yaml:1: max-file-size: must be at least 1; found 0"),
    (".iaclint.yaml", "select: [IAC101\n", ".iaclint.yaml:2: YAML error:"),
    (".iaclint.yaml", "- IAC101\n", ".iaclint.yaml:1: the configuration must be a mapping of keys"),
    (".iaclint.toml", "fail-on = 'high'\nselect = 'IAC101'\n",
     ".iaclint.toml:2: select: expected a list, found the string 'IAC101'"),
    (".iaclint.toml", "fail-on = 'high'\n\n[severity]\nrun-as-root = 'urgent'\n",
     ".iaclint.toml:4: severity.run-as-root: must be one of"),
    (".iaclint.toml", "select = [\n", ".iaclint.toml:2: TOML error:"),
    ("pyproject.toml", "[project]\nname = 'x'\n[tool.iaclint]\ngitignore = 'no'\n",
     "pyproject.toml:4: gitignore: expected true or false, found the string 'no'"),
], ids=["unknown-key", "wrong-type", "unknown-check-in-select", "bad-severity-value", "unknown-check-in-severity",
        "unknown-nested-key", "bad-date", "unknown-check-in-per-path-ignores", "bad-regex", "unknown-param",
        "bad-format", "below-minimum", "yaml-syntax", "not-a-mapping", "toml-wrong-type", "toml-nested-line",
        "toml-syntax", "pyproject-wrong-type"])
def test_bad_configuration(repo, tmp_path, name, text, expected):
    repo({name: text, "pod.yaml": POD})
    for command in (["scan"], ["config"]):
        r = cli(*command)
        assert r.exit_code == 2, r.stdout
        assert r.stderr.startswith(f"iaclint: error: invalid configuration: {tmp_path / expected}"), r.stderr
        assert "Traceback" not in r.stderr


def test_bad_command_line_values(repo):
    repo({"pod.yaml": POD})
    r = cli("scan", "--ignore", "IAC999")
    assert r.exit_code == 2 and r.stderr == "iaclint: error: --ignore: unknown check 'IAC999' (see `iaclint rules`)\n"
    r = cli("scan", "--fail-on", "urgent")
    assert r.exit_code == 2 and "--fail-on must be one of" in r.stderr
    r = cli("scan", "-f", "xml")
    assert r.exit_code == 2 and "unknown format 'xml'" in r.stderr


FOUR_FORMATS = {
    "Dockerfile": "FROM nginx:latest\nUSER 10001\n",
    "compose.yaml": "services:\n  web:\n    image: nginx:latest\n",
    "pod.yaml": POD,
    "main.tf": 'resource "docker_container" "web" {\n  name  = "web"\n  image = "nginx:latest"\n}\n',
}


def test_per_path_ignores_in_every_format(repo):
    files = {f"{d}/{name}": text for d in ("legacy", "app") for name, text in FOUR_FORMATS.items()}
    repo({".iaclint.yaml": "select: [unpinned-image]\nper-path-ignores:\n  'legacy/': [unpinned-image]\n", **files})
    fs = findings(cli("scan", "-f", "json"))
    got = {(f["path"].split("/")[0], f["path"].split("/")[1], f["suppressed"]) for f in fs}
    assert got == {(d, name, d == "legacy") for d in ("legacy", "app") for name in FOUR_FORMATS}
