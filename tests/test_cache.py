"""The per-file result cache (linter/cache.py): a warm run reuses per-file results and reports
exactly what a cold run does, cross-file facts are recomputed from cached models, every input of
a result is in its key, and a corrupt, planted or stale entry is never trusted."""
from __future__ import annotations

import os
import pickle

import pytest

from linter import cache as cache_mod
from linter.cache import CACHE_DIR_NAME

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:4.2.0
          env:
            - name: DB_PASSWORD
              value: "Xk9#mQ2$vL7pR4wZ"
"""
POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api
  namespace: shop
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
"""
DOCKERFILE = "FROM python:3.12-slim\nRUN pip install flask\nCMD [\"flask\", \"run\"]\n"
COMPOSE = "services:\n  web:\n    image: nginx:latest\n    privileged: true\n"
MAIN_TF = """\
resource "docker_container" "web" {
  name  = "web"
  image = var.image
}
"""
VARIABLES_TF = 'variable "image" {\n  default = "nginx:1.25"\n}\n'
TREE = {
    "k8s/deploy.yaml": DEPLOYMENT,
    "k8s/policy.yaml": POLICY,
    "app/Dockerfile": DOCKERFILE,
    "compose.yaml": COMPOSE,
    "tf/main.tf": MAIN_TF,
    "tf/variables.tf": VARIABLES_TF,
    "tf/terraform.tfvars": 'image = "nginx:latest"\n',
}


@pytest.fixture
def project(tmp_path, monkeypatch, registry):
    """A mixed tree; the user cache dir (MAC key, compiled checks) isolated under tmp_path."""
    root = tmp_path / "project"
    for name, text in TREE.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.delenv("IACLINT_CACHE_DIR", raising=False)
    monkeypatch.setattr(cache_mod, "_SECRET", None)
    monkeypatch.chdir(root)
    return root


def scan(registry, cache=True, select=None, checks=None, paths=(".",)):
    from linter.report import ReportContext, render
    from linter.scan import ScanOptions, scan as run_scan, select_checks

    checks = checks or select_checks(registry, select, None)
    result = run_scan(ScanOptions(paths=list(paths), checks=checks, cache=cache))
    return result, render("json", ReportContext(result=result, checks=checks, version="test", roots=list(paths)))


class Counter:
    """Wraps the two parse entry points the per-file stage calls, counting per path."""

    def __init__(self, monkeypatch, fail: bool = False):
        import linter.scan
        from linter.parsers import terraform

        self.calls: list[str] = []
        real_bytes, real_module = linter.scan.parse_bytes, terraform.parse_module

        def parse_bytes(path, kind, data):
            self.calls.append(path)
            assert not fail, f"{path} parsed although its cache entry is valid"
            return real_bytes(path, kind, data)

        def parse_module(directory, candidates, max_size):
            self.calls.append(directory)
            assert not fail, f"{directory} parsed although its cache entry is valid"
            return real_module(directory, candidates, max_size)

        monkeypatch.setattr(linter.scan, "parse_bytes", parse_bytes)
        monkeypatch.setattr(terraform, "parse_module", parse_module)


def entries(root):
    base = root / CACHE_DIR_NAME
    return [p for p in base.rglob("*") if p.is_file() and p.parent.parent.parent.name.startswith("v")]


def test_warm_run_parses_nothing_and_reports_byte_for_byte_the_same(project, registry, monkeypatch):
    _, uncached = scan(registry, cache=False)
    _, cold = scan(registry)
    assert len(entries(project)) == 5  # 4 files + 1 Terraform module
    Counter(monkeypatch, fail=True)
    result, warm = scan(registry)
    assert warm == cold == uncached
    ids = {(f.rule_name, f.path) for f in result.findings}
    assert ("plaintext-secret", "k8s/deploy.yaml") in ids and ("privileged-container", "compose.yaml") in ids
    assert ("unpinned-image", os.path.join("tf", "main.tf")) in ids  # var.image from terraform.tfvars


def test_an_edited_file_alone_is_parsed_again(project, registry, monkeypatch):
    scan(registry)
    (project / "app/Dockerfile").write_text(DOCKERFILE + "USER 10001\n")
    counter = Counter(monkeypatch)
    result, _ = scan(registry)
    assert counter.calls == [os.path.join("app", "Dockerfile")]
    assert not any(f.rule_name == "run-as-root" and f.path.endswith("Dockerfile") for f in result.findings)


def test_cross_file_facts_are_recomputed_from_cached_models(project, registry, monkeypatch):
    def uncovered(result):
        return [f for f in result.findings if f.rule_name == "missing-network-policy"]

    first, _ = scan(registry)
    assert uncovered(first) == []
    # The Deployment's file is unchanged (a cache hit); only the policy moves away from it.
    (project / "k8s/policy.yaml").write_text(POLICY.replace("namespace: shop", "namespace: other"))
    counter = Counter(monkeypatch)
    second, report = scan(registry)
    assert counter.calls == [os.path.join("k8s", "policy.yaml")]
    assert [f.path for f in uncovered(second)] == [os.path.join("k8s", "deploy.yaml")]
    assert report == scan(registry, cache=False)[1]


def test_terraform_module_entry_covers_every_file_of_the_directory(project, registry, monkeypatch):
    scan(registry)
    # terraform.tfvars is not a scanned file, but parse_module reads it: changing it must miss.
    (project / "tf/terraform.tfvars").write_text('image = "nginx:1.25.3"\n')
    counter = Counter(monkeypatch)
    result, _ = scan(registry)
    assert counter.calls == ["tf"]
    tf = {f.rule_name for f in result.findings if f.path.startswith("tf")}
    assert "unpinned-image" not in tf and "image-without-digest" in tf
    # a new sibling .tf file too
    (project / "tf/locals.tf").write_text('locals {\n  x = 1\n}\n')
    counter.calls.clear()
    scan(registry)
    assert "tf" in counter.calls


def test_a_compose_file_entry_covers_the_env_file_beside_it(project, registry, monkeypatch):
    (project / "compose.yaml").write_text(COMPOSE.replace("nginx:latest", "nginx:${TAG}"))
    (project / ".env").write_text("TAG=latest\n")
    first, _ = scan(registry)
    assert any(f.rule_name == "unpinned-image" and f.path == "compose.yaml" for f in first.findings)
    (project / ".env").write_text("TAG=1.25.3\n")  # compose_interp reads it: the entry must miss
    counter = Counter(monkeypatch)
    second, _ = scan(registry)
    assert counter.calls == ["compose.yaml"]
    assert not any(f.rule_name == "unpinned-image" and f.path == "compose.yaml" for f in second.findings)
    (project / ".env").unlink()
    counter.calls.clear()
    scan(registry)
    assert counter.calls == ["compose.yaml"]


def test_checks_and_their_parameters_are_part_of_the_key(project, registry, monkeypatch):
    from linter.engine.checks import Check
    from linter.scan import select_checks

    scan(registry)
    counter = Counter(monkeypatch)
    scan(registry, select=["run-as-root"])
    assert len(counter.calls) == 5  # another set of checks: every unit misses
    counter.calls.clear()
    base = select_checks(registry, None, None)
    target = next(c for c in base if c.params)
    name, value = next(iter(target.params.items()))
    other = value + ["EXTRA"] if isinstance(value, list) else f"{value}0"
    changed = [Check(c.raw, c.source, c.builtin, params={name: other}) if c is target else c for c in base]
    scan(registry, checks=changed)
    assert len(counter.calls) == 5
    counter.calls.clear()
    scan(registry, checks=changed)
    assert counter.calls == []


def test_corrupt_entries_are_misses_not_crashes(project, registry):
    _, cold = scan(registry)
    for i, path in enumerate(entries(project)):
        data = path.read_bytes()
        path.write_bytes([b"", data[: len(data) // 2], data[:-1] + bytes([data[-1] ^ 1]), b"garbage"][i % 4])
    assert scan(registry)[1] == cold
    assert scan(registry)[1] == cold  # rewritten by the previous run


class _Planted:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))  # unpickling this creates the file


def test_a_planted_pickle_is_never_loaded(project, registry, tmp_path):
    """The cache lives in the scanned tree, which may come from an untrusted pull request: an entry
    not signed with the user's key must not be unpickled (that would run its code)."""
    _, cold = scan(registry)
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Planted(str(marker)))
    for path in entries(project):
        data = path.read_bytes()
        # keep magic and input hash, forge the MAC: what an attacker without the key can do
        head = len(cache_mod._MAGIC)
        forged = data[:head] + b"\0" * cache_mod._MAC_SIZE + data[head + cache_mod._MAC_SIZE:][:16] + payload
        path.write_bytes(forged)
    assert scan(registry)[1] == cold
    assert not marker.exists()


def test_layout_gitignore_and_atomic_writes(project, registry):
    scan(registry)
    base = project / CACHE_DIR_NAME
    assert (base / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (base / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert not [p for p in base.rglob("*.tmp")]
    # the discovery walk skips the cache (a dot-directory): nothing in it is ever scanned
    result, _ = scan(registry)
    assert not any(CACHE_DIR_NAME in pf.path for pf in result.parsed)


def test_no_cache_writes_nothing_and_clean_removes_it(project, registry, capsys):
    from linter.cli import main

    with pytest.raises(SystemExit):
        main(["scan", "--no-cache", "-q", "."])
    assert not (project / CACHE_DIR_NAME).exists()
    with pytest.raises(SystemExit):
        main(["scan", "-q", "."])
    assert (project / CACHE_DIR_NAME).is_dir()
    with pytest.raises(SystemExit) as exc:
        main(["clean"])
    assert exc.value.code == 0 and not (project / CACHE_DIR_NAME).exists()
    assert "removed" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["clean"])
    assert "no cache" in capsys.readouterr().err


def test_cache_goes_to_the_git_root(project, registry):
    (project / ".git").mkdir()
    scan(registry, paths=["k8s/deploy.yaml"])
    assert (project / CACHE_DIR_NAME).is_dir() and not (project / "k8s" / CACHE_DIR_NAME).exists()


def test_a_read_only_tree_is_scanned_without_a_cache(project, registry):
    mode = project.stat().st_mode
    project.chmod(0o555)  # root ignores the bits, so the cache checks them itself
    try:
        _, report = scan(registry)
    finally:
        project.chmod(mode)
    assert not (project / CACHE_DIR_NAME).exists()
    assert report == scan(registry, cache=False)[1]


def test_no_user_key_means_no_cache(project, registry, monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # the key cannot be created under a file
    _, report = scan(registry)
    assert not (project / CACHE_DIR_NAME).exists()
    assert report == scan(registry, cache=False)[1]


def test_compiled_builtin_checks(tmp_path, monkeypatch):
    """The built-in check files are parsed once, then loaded from a signed pickle, until one changes."""
    import shutil

    from linter.engine import checks as C

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.setattr(cache_mod, "_SECRET", None)
    copy = tmp_path / "checks"
    shutil.copytree(C.builtin_checks_dir(), copy)
    monkeypatch.setattr(C, "builtin_checks_dir", lambda: copy)
    first = cache_mod.load_registry([])
    real_load = C.load_check_file
    parsed = []
    monkeypatch.setattr(C, "load_check_file", lambda *a, **k: parsed.append(a[0]) or real_load(*a, **k))
    second = cache_mod.load_registry([])
    assert parsed == []
    assert [(c.id, c.name, c.severity, c.params, c.cross_file) for c in second] == \
           [(c.id, c.name, c.severity, c.params, c.cross_file) for c in first]
    assert [c.raw for c in second] == [c.raw for c in first]
    edited = sorted(copy.glob("*.yaml"))[0]
    edited.write_text(edited.read_text().replace("severity:", "# edited\nseverity:", 1))
    third = cache_mod.load_registry([])
    assert len(parsed) == len(first) and len(third) == len(first)
    assert len(list((tmp_path / "user-cache" / "iaclint").glob("checks-*.pickle"))) == 1


def test_iaclint_cache_dir_puts_the_cache_elsewhere(project, registry, monkeypatch, tmp_path):
    elsewhere = tmp_path / "ci-cache" / "iaclint"  # created on demand, parents too
    monkeypatch.setenv("IACLINT_CACHE_DIR", str(elsewhere))
    _, cold = scan(registry)
    assert not (project / CACHE_DIR_NAME).exists() and (elsewhere / ".gitignore").exists()
    Counter(monkeypatch, fail=True)
    assert scan(registry)[1] == cold


def test_a_truncated_user_key_is_replaced(project, registry, tmp_path):
    key = tmp_path / "user-cache" / "iaclint" / "cache-key"
    key.parent.mkdir(parents=True)
    key.write_bytes(b"short")
    scan(registry)
    assert len(key.read_bytes()) == 32 and (project / CACHE_DIR_NAME).is_dir()


def test_entries_hold_no_secret_value(project, registry):
    """Setting and Instruction values are blanked in entries (CI systems upload cache directories);
    a file that mentions iaclint keeps its source text for the suppression pass, so it is not cached."""
    secret = "Xk9#mQ2$vL7pR4wZ"
    (project / "app/Dockerfile").write_text(DOCKERFILE + f"ENV API_KEY={secret}\n")
    (project / "suppressed.yaml").write_text(
        DEPLOYMENT.replace("name: api\n", "name: other\n", 1)
        + "# iaclint: ignore-file[plaintext-secret] -- test fixture\n")
    result, _ = scan(registry)
    assert sum(f.rule_name == "plaintext-secret" for f in result.findings) >= 3
    blobs = {p: p.read_bytes() for p in entries(project)}
    assert len(blobs) == 5  # suppressed.yaml (it mentions iaclint) has no entry
    assert not [p for p, b in blobs.items() if secret.encode() in b]


def test_secrets_allow_gets_the_values_it_matches(project, registry, monkeypatch):
    """secrets.allow matches a flagged Setting's value after the checks: an entry whose flagged
    value was blanked is a miss for such a scan, so the result never depends on the cache."""
    import re

    from linter.report import ReportContext, render
    from linter.scan import ScanOptions, scan as run_scan, select_checks
    from linter.suppress import SuppressOptions

    checks = select_checks(registry, None, None)

    def run(cache):
        sup = SuppressOptions(secret_allow=[re.compile(r"^Xk9#")], secret_allow_source=".iaclint.yaml")
        result = run_scan(ScanOptions(paths=["."], checks=checks, cache=cache, suppress=sup))
        return result, render("json", ReportContext(result=result, checks=checks, version="t", roots=["."]))

    first, cold = run(True)
    allowed = [f for f in first.findings if f.rule_name == "plaintext-secret" and f.path == "k8s/deploy.yaml"]
    assert allowed and all(f.suppression is not None for f in allowed)
    counter = Counter(monkeypatch)
    _, warm = run(True)
    assert counter.calls == [os.path.join("k8s", "deploy.yaml")]  # the one file with a flagged value
    assert warm == cold == run(False)[1]
