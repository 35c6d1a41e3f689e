"""The pre-commit hook: its manifest, the repository context for named files, and the real
``pre-commit`` tool blocking (or letting through) commits in a throw-away git repository.

The pre-commit tests install this project the way a user's pre-commit does: from a git
repository, with pip, into an environment under ``PRE_COMMIT_HOME`` (a per-session temporary
directory).  The repository is a committed snapshot of the current working tree rather than
this checkout itself, because ``pre-commit try-repo`` takes HEAD plus *tracked* changes only: files
not yet committed would be missing and the test would check an older hook than the code beside it.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / ".pre-commit-hooks.yaml"

PRIVILEGED_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: debug
  namespace: shop
spec:
  containers:
    - name: shell
      image: busybox:1.36
      securityContext:
        privileged: true
"""

NETWORK_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""

# Clean under every default check, except that it needs a NetworkPolicy in namespace shop.
CLEAN_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      serviceAccountName: api
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: web
          image: registry.example.com/shop/api:1.4.2@sha256:%s
          imagePullPolicy: IfNotPresent
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 256Mi}
          livenessProbe: {httpGet: {path: /healthz, port: 8080}}
          readinessProbe: {httpGet: {path: /ready, port: 8080}}
""" % ("a" * 64)


# --- the manifest ---------------------------------------------------------------------------

def _hook() -> dict:
    hooks = yaml.safe_load(MANIFEST.read_text())
    assert isinstance(hooks, list) and len(hooks) == 1
    return hooks[0]


def test_manifest_is_valid_for_pre_commit():
    pytest.importorskip("pre_commit")
    from pre_commit.clientlib import load_manifest

    (hook,) = load_manifest(str(MANIFEST))
    assert hook["id"] == "iaclint"
    assert hook["language"] == "python"
    assert hook["entry"] == "iaclint scan"
    assert hook["require_serial"] is True
    assert hook["pass_filenames"] is True


@pytest.mark.parametrize("name", [
    "Dockerfile", "dockerfile", "DOCKERFILE", "Containerfile", "Dockerfile.prod", "Dockerfile-dev", "Dockerfile_ci",
    "containerfile.arm64", "api.dockerfile", "my.Dockerfile", "Dockerfile.md", "Dockerfile.yaml", "Dockerfile.j2",
    "Dockerfile.bak", "Containerfile.txt", "Containerfile-x", "containerfile-x.yaml", "dockerfilex.yaml",
    "docker-compose.yml", "compose.yaml", "deploy.yaml", "main.tf", "vars.tf.json", "x.json", "README.md",
    "Makefile", "main.tf.bak", "values.yml",
])
@pytest.mark.parametrize("directory", ["", "deploy/k8s/", "Dockerfile.d/"])
def test_files_regex_matches_what_a_directory_scan_classifies(name, directory):
    from linter.discover import classify

    matched = re.search(_hook()["files"], directory + name) is not None
    assert matched == (classify(name) is not None)


def test_files_regex_takes_tfvars():
    assert re.search(_hook()["files"], "envs/prod.tfvars")


# --- repository context for named files (fast, no pre-commit) --------------------------------

def _scan(paths, registry, select=("missing-network-policy", "network-policy-selects-nothing"), context=True):
    from linter.scan import ScanOptions, scan, select_checks

    checks = select_checks(registry, list(select) if select else None, None)
    return scan(ScanOptions(paths=list(paths), checks=checks, repository_context=context))


@pytest.fixture
def repo(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()  # enough for the work-tree lookup; no git needed
    (tmp_path / "apps").mkdir()
    (tmp_path / "policies").mkdir()
    (tmp_path / "apps" / "api.yaml").write_text(CLEAN_DEPLOYMENT)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_named_file_sees_policy_elsewhere_in_the_repository(repo, registry):
    assert [f.rule_name for f in _scan(["apps/api.yaml"], registry).findings] == ["missing-network-policy"]
    (repo / "policies" / "deny.yaml").write_text(NETWORK_POLICY)
    result = _scan(["apps/api.yaml"], registry)
    assert result.findings == []
    assert result.files_scanned == 1  # the context file is not part of the scan
    assert all(not d.path.endswith("deny.yaml") for d in result.diagnostics)


def test_context_is_off_for_library_callers_and_with_no_repo_context(repo, registry):
    (repo / "policies" / "deny.yaml").write_text(NETWORK_POLICY)
    assert [f.rule_name for f in _scan(["apps/api.yaml"], registry, context=False).findings] == \
        ["missing-network-policy"]
    cli = [sys.executable, "-m", "linter", "scan", "--no-cache", "--select", "missing-network-policy", "apps/api.yaml"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    assert subprocess.run(cli, cwd=repo, env=env, capture_output=True).returncode == 0
    proc = subprocess.run(cli + ["--no-repo-context"], cwd=repo, env=env, capture_output=True, text=True)
    assert proc.returncode == 1 and "missing-network-policy" in proc.stdout


def test_context_is_looked_up_from_a_subdirectory(repo, registry, monkeypatch):
    (repo / "policies" / "deny.yaml").write_text(NETWORK_POLICY)
    monkeypatch.chdir(repo / "apps")
    assert _scan(["api.yaml"], registry).findings == []


def test_context_files_are_never_reported_on(repo, registry):
    (repo / "policies" / "deny.yaml").write_text(NETWORK_POLICY)
    other = NETWORK_POLICY.replace("default-deny", "stray").replace("podSelector: {}", "podSelector: {matchLabels: {app: nope}}")
    (repo / "policies" / "stray.yaml").write_text(other + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: shop}\n"
                                                 "spec: {containers: [{name: c, image: busybox, securityContext: "
                                                 "{privileged: true}}]}\n")
    (repo / "policies" / "broken.yaml").write_text("kind: NetworkPolicy\nmetadata: [\n")
    result = _scan(["apps/api.yaml"], registry, select=None)
    assert result.findings == [] and result.diagnostics == []
    # not vacuous: scanned themselves, the context files do have findings and errors
    direct = _scan(["policies"], registry, select=None)
    assert "privileged-container" in {f.rule_name for f in direct.findings}
    assert any(d.level == "error" for d in direct.diagnostics)


def test_named_policy_selecting_nothing_is_not_judged_without_the_repository_workloads(repo, registry):
    # The policy is staged; the workloads it selects are committed elsewhere and not parsed.
    (repo / "policies" / "deny.yaml").write_text(NETWORK_POLICY)
    (repo / "apps" / "pol.yaml").write_text(NETWORK_POLICY.replace("default-deny", "api-only")
                                            .replace("podSelector: {}", "podSelector: {matchLabels: {app: web}}"))
    result = _scan(["apps/api.yaml", "apps/pol.yaml"], registry)
    assert result.findings == []
    # a directory scan of apps/ judges both from what it holds
    names = sorted(f.rule_name for f in _scan(["apps"], registry).findings)
    assert names == ["missing-network-policy", "network-policy-selects-nothing"]


def test_directory_scan_does_not_read_the_rest_of_the_repository(repo, registry, monkeypatch):
    from linter import context

    def boom(*a, **k):
        raise AssertionError("context lookup during a directory scan")

    monkeypatch.setattr(context, "Lookup", boom)
    monkeypatch.setattr(context, "network_policies", boom)
    (repo / "policies" / "deny.yaml").write_text(NETWORK_POLICY)
    assert [f.rule_name for f in _scan(["apps"], registry).findings] == ["missing-network-policy"]
    with pytest.raises(AssertionError, match="context lookup"):  # not vacuous: a named file does look
        _scan(["apps/api.yaml"], registry)


def test_files_without_the_marker_are_not_parsed(repo, registry, monkeypatch):
    import linter.scan as scan_module

    (repo / "policies" / "deny.yaml").write_text(NETWORK_POLICY)
    (repo / "policies" / "other.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    parsed = []
    real = scan_module.parse_bytes
    monkeypatch.setattr(scan_module, "parse_bytes", lambda p, k, d: parsed.append(os.path.basename(p)) or real(p, k, d))
    _scan(["apps/api.yaml"], registry)
    assert sorted(parsed) == ["api.yaml", "deny.yaml"]


def test_only_documents_declaring_a_network_policy_are_parsed():
    from linter.context import policy_documents
    from linter.scan import parse_bytes

    crd = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: x}\n"
           "spec: {description: 'like a NetworkPolicy'}\n")
    stream = ("# leading comment\n" + crd + "---\n" + NETWORK_POLICY + "---\n" + CLEAN_DEPLOYMENT + "--- \n"
              + NETWORK_POLICY.replace("default-deny", "second")).encode()
    selected = policy_documents(stream)
    assert b"CustomResourceDefinition" not in selected and b"Deployment" not in selected
    names = [r.name for r in parse_bytes("x.yaml", "yaml", selected).resources if r.type_name == "network_policy"]
    assert names == ["default-deny", "second"]
    assert policy_documents(b'{"apiVersion": "v1", "kind": "NetworkPolicy"}') != b""
    assert policy_documents(crd.encode()) == b""


def test_context_root(tmp_path, monkeypatch):
    from linter.context import context_root

    (tmp_path / "w" / "a" / "b").mkdir(parents=True)
    (tmp_path / "w" / "c").mkdir()
    assert context_root([str(tmp_path / "w" / "a" / "b" / "x.yaml"), str(tmp_path / "w" / "c" / "y.yaml")]) == \
        str(tmp_path / "w")
    (tmp_path / "w" / ".git").write_text("gitdir: /elsewhere\n")  # a worktree or submodule
    assert context_root([str(tmp_path / "w" / "a" / "b" / "x.yaml")]) == str(tmp_path / "w")
    monkeypatch.setenv("HOME", str(tmp_path / "w" / "a"))
    assert context_root([str(tmp_path / "w" / "a" / "x.yaml")]) == str(tmp_path / "w")  # git wins


# --- the real pre-commit tool ----------------------------------------------------------------

def _run(cmd, cwd, env, check=True):
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout}")
    return proc


@pytest.fixture(scope="session")
def precommit_env(tmp_path_factory):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    pytest.importorskip("pre_commit")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}  # an outer hook's GIT_DIR etc.
    env.update(PRE_COMMIT_HOME=str(tmp_path_factory.mktemp("pre-commit-home")), PRE_COMMIT_COLOR="never",
               GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
               GIT_AUTHOR_NAME="test", GIT_AUTHOR_EMAIL="test@example.com",
               GIT_COMMITTER_NAME="test", GIT_COMMITTER_EMAIL="test@example.com")
    # pre-commit runs as `python -m pre_commit` of this interpreter, whatever is on PATH.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


def _git_init(path: Path, env):
    _run(["git", "init", "-q", "-b", "main", str(path)], path, env)


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory, precommit_env):
    """A git repository holding the current working tree's package; returns (path, commit)."""
    dest = tmp_path_factory.mktemp("hook-repo")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*.tmp")
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("linter", "checks"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    _git_init(dest, precommit_env)
    _run(["git", "add", "-A"], dest, precommit_env)
    _run(["git", "commit", "-q", "-m", "snapshot"], dest, precommit_env)
    sha = _run(["git", "rev-parse", "HEAD"], dest, precommit_env).stdout.strip()
    return dest, sha


@pytest.fixture
def user_repo(tmp_path, precommit_env, hook_repo):
    """Make a repository whose commits go through the iaclint hook (with optional hook args)."""
    path, sha = hook_repo

    def make(args=()):
        repo = tmp_path / "user"
        repo.mkdir()
        _git_init(repo, precommit_env)
        config = {"repos": [{"repo": str(path), "rev": sha, "hooks": [{"id": "iaclint", **({"args": list(args)}
                                                                                              if args else {})}]}]}
        (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
        _run([sys.executable, "-m", "pre_commit", "install"], repo, precommit_env)
        return repo

    return make


def _commit(repo: Path, env, files: dict, message: str):
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    _run(["git", "add", "-A"], repo, env)
    return _run(["git", "commit", "-m", message], repo, env, check=False)


def test_try_repo_reports_a_privileged_pod(tmp_path, precommit_env, hook_repo):
    repo = tmp_path / "work"
    repo.mkdir()
    _git_init(repo, precommit_env)
    (repo / "k8s").mkdir()
    (repo / "k8s" / "debug.yaml").write_text(PRIVILEGED_POD)
    (repo / "notes.md").write_text("# not scanned\n")
    _run(["git", "add", "-A"], repo, precommit_env)
    proc = _run([sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo[0]), "iaclint", "--files",
                 "k8s/debug.yaml", "notes.md"], repo, precommit_env, check=False)
    assert proc.returncode == 1, proc.stdout
    assert re.search(r"iaclint\.+Failed", proc.stdout), proc.stdout
    assert re.search(r"k8s/debug\.yaml:11:9: IAC102 \[critical\] privileged-container: shell runs privileged",
                     proc.stdout), proc.stdout
    assert "notes.md" not in proc.stdout.split("Failed", 1)[1]


def test_commits_are_blocked_or_let_through(user_repo, precommit_env):
    user_repo = user_repo()
    proc = _commit(user_repo, precommit_env, {"k8s/debug.yaml": PRIVILEGED_POD}, "add a debug pod")
    assert proc.returncode != 0, proc.stdout
    assert "privileged-container" in proc.stdout and "shell runs privileged" in proc.stdout
    assert _run(["git", "rev-list", "--all"], user_repo, precommit_env).stdout == ""  # nothing was committed

    _run(["git", "rm", "-q", "--cached", "k8s/debug.yaml"], user_repo, precommit_env)
    (user_repo / "k8s" / "debug.yaml").unlink()
    proc = _commit(user_repo, precommit_env, {"k8s/policy.yaml": NETWORK_POLICY, "README.md": "hello\n"},
                   "network policy")
    assert proc.returncode == 0, proc.stdout
    assert re.search(r"iaclint\.+Passed", proc.stdout), proc.stdout


def test_policy_in_an_earlier_commit_counts(user_repo, precommit_env):
    # Only the check under test, so that checks added later cannot make this workload unclean.
    user_repo = user_repo(["--select", "missing-network-policy"])
    assert _commit(user_repo, precommit_env, {"k8s/apps/web.yaml": CLEAN_DEPLOYMENT.replace("name: api", "name: web")},
                   "no policy yet").returncode == 1
    _run(["git", "rm", "-q", "--cached", "k8s/apps/web.yaml"], user_repo, precommit_env)
    (user_repo / "k8s" / "apps" / "web.yaml").unlink()
    assert _commit(user_repo, precommit_env, {"k8s/policy.yaml": NETWORK_POLICY}, "policy").returncode == 0
    proc = _commit(user_repo, precommit_env, {"k8s/apps/api.yaml": CLEAN_DEPLOYMENT}, "the api")
    assert proc.returncode == 0, proc.stdout
    assert re.search(r"iaclint\.+Passed", proc.stdout), proc.stdout


def test_git_grep_finds_the_same_context_files_as_the_walk(tmp_path, precommit_env, monkeypatch):
    """In a real work tree the context files come from `git grep` (fast); they must be what the
    Python walk would read: tracked and untracked files, not git-ignored, dot or vendor
    directories, nor the configuration's excludes."""
    from types import SimpleNamespace

    from linter import context
    from linter.discover import Candidate
    from linter.gitignore import GitIgnore

    _git_init(tmp_path, precommit_env)
    policy = NETWORK_POLICY
    files = {
        "apps/api.yaml": CLEAN_DEPLOYMENT,
        "policies/committed.yaml": policy.replace("default-deny", "committed"),
        "policies/untracked.yml": policy.replace("default-deny", "untracked"),
        "build/ignored.yaml": policy.replace("default-deny", "ignored"),
        "node_modules/pkg/vendored.yaml": policy.replace("default-deny", "vendored"),
        ".github/hidden.yaml": policy.replace("default-deny", "hidden"),
        "skip/excluded.yaml": policy.replace("default-deny", "excluded"),
        "docs/notes.md": policy.replace("default-deny", "markdown"),
        "policies/mentions.yaml": "# a NetworkPolicy would go here\nkind: ConfigMap\n",
        ".gitignore": "build/\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    _run(["git", "add", "apps", "policies/committed.yaml", ".gitignore"], tmp_path, precommit_env)
    _run(["git", "add", "-f", "build/ignored.yaml"], tmp_path, precommit_env)  # tracked, in an ignored dir
    _run(["git", "commit", "-q", "-m", "x"], tmp_path, precommit_env)
    monkeypatch.chdir(tmp_path)
    ignore = GitIgnore(str(tmp_path))
    opts = SimpleNamespace(exclude=["skip"], is_ignored=ignore, max_file_size=10**7)
    named = [Candidate("apps/api.yaml", "yaml", 1, explicit=True)]

    lookup = context.Lookup(named)
    assert lookup.proc is not None  # git is used here
    fast = sorted(p.name for p in lookup.policies(named, opts))
    monkeypatch.setattr(context, "_start_git_grep", lambda root: None)
    walked = sorted(p.name for p in context.Lookup(named).policies(named, opts))
    assert fast == walked == ["committed", "untracked"]


SERVICE_ACCOUNT = """\
apiVersion: v1
kind: ServiceAccount
metadata: {name: api, namespace: shop}
automountServiceAccountToken: false
"""


def test_named_pod_inherits_automount_from_a_service_account_elsewhere(repo, registry):
    # the pod spec leaves automountServiceAccountToken unset; its ServiceAccount, committed in
    # another file, turns it off
    (repo / "apps" / "api.yaml").write_text(CLEAN_DEPLOYMENT.replace("      automountServiceAccountToken: false\n", ""))
    select = ("automount-service-account-token",)
    assert [f.rule_name for f in _scan(["apps/api.yaml"], registry, select=select).findings] == \
        ["automount-service-account-token"]
    # a RoleBinding naming the account as a subject is not the account
    (repo / "policies" / "binding.yaml").write_text(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: shop}\n"
        "subjects: [{kind: ServiceAccount, name: api, namespace: shop}]\n"
        "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\n")
    assert len(_scan(["apps/api.yaml"], registry, select=select).findings) == 1
    (repo / "policies" / "sa.yaml").write_text("---\n" + NETWORK_POLICY + "---\n" + SERVICE_ACCOUNT)
    assert _scan(["apps/api.yaml"], registry, select=select).findings == []
    assert len(_scan(["apps/api.yaml"], registry, select=select, context=False).findings) == 1
    # a namesake in a named file wins over the one in the repository
    (repo / "apps" / "sa-on.yaml").write_text(SERVICE_ACCOUNT.replace("false", "true"))
    assert len(_scan(["apps/api.yaml", "apps/sa-on.yaml"], registry, select=select).findings) == 1


def test_context_index_reuses_unchanged_files_and_rereads_changed_ones(repo, registry, monkeypatch, tmp_path):
    import time
    from types import SimpleNamespace

    import linter.cache as cache_mod
    from linter import context
    from linter.discover import Candidate

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.setenv("IACLINT_CACHE_DIR", str(tmp_path / "project-cache"))
    monkeypatch.setattr(cache_mod, "_SECRET", None)
    cache = cache_mod.ResultCache.open([str(repo)], list(registry), 10**7)
    assert cache is not None
    policy = repo / "policies" / "deny.yaml"
    policy.write_text(NETWORK_POLICY)
    old = time.time() - 60
    os.utime(policy, (old, old))
    opts = SimpleNamespace(exclude=[], is_ignored=None, max_file_size=10**7)
    named = [Candidate("apps/api.yaml", "yaml", 1, explicit=True)]
    parsed = []
    real = context._file_resources
    monkeypatch.setattr(context, "_file_resources", lambda p, d: parsed.append(p) or real(p, d))

    def names():
        return [r.name for r in context.Lookup(named).policies(named, opts, cache)]

    assert names() == ["default-deny"] and len(parsed) == 1
    assert names() == ["default-deny"] and len(parsed) == 1          # unchanged: served by the index
    policy.write_text(NETWORK_POLICY.replace("default-deny", "deny-all"))
    os.utime(policy, (old + 1, old + 1))
    assert names() == ["deny-all"] and len(parsed) == 2              # size and mtime changed: read again
    policy.write_text(NETWORK_POLICY.replace("default-deny", "deny-now"))  # just written: racy
    assert names() == ["deny-now"] and names() == ["deny-now"] and len(parsed) == 4
    assert context.Lookup(named).policies(named, opts, None) and len(parsed) == 5  # no cache: always read
