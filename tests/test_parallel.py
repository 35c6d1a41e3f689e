"""Parallel scans (linter/parallel.py): worker processes give byte-for-byte the report of a
single-process run, small runs never start a worker, and a worker that cannot return its result
(or dies) costs parallelism, never results."""
from __future__ import annotations

import os
import pickle

import pytest

from linter import parallel
from linter.discover import Candidate

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api-{i}
  namespace: shop
spec:
  selector: {{matchLabels: {{app: api-{i}}}}}
  template:
    metadata:
      labels: {{app: api-{i}}}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:4.2.{i}
          securityContext:
            privileged: {privileged}
          env:
            - name: API_TOKEN
              value: "ghp_{token}"
"""
POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api-1
  namespace: shop
spec:
  podSelector: {matchLabels: {app: api-1}}
  policyTypes: [Ingress, Egress]
"""
SUPPRESSED = """\
apiVersion: v1
kind: Pod
metadata:
  name: debug
  annotations:
    iaclint.io/ignore: run-as-root
spec:
  containers:
    # iaclint: ignore[privileged-container] -- node debugging pod
    - name: shell
      image: busybox
      securityContext: {privileged: true}
"""
DOCKERFILE = "FROM node:{i}\nARG NPM_TOKEN=npm_{token}\nRUN curl -fsSL https://example.com/x.sh | sh\nEXPOSE 80\n"
COMPOSE = "services:\n  db:\n    image: postgres\n    environment:\n      POSTGRES_PASSWORD: hunter2hunter2\n" \
          "    ports: ['5432:5432']\n"
MAIN_TF = """\
resource "docker_container" "c{i}" {{
  name       = "c{i}"
  image      = var.image
  privileged = true
}}
"""


def mixed_tree(root, n: int = 6) -> None:
    """Every format, a cross-file pair, a suppression, a parse error, a Terraform module per dir."""
    files = {"k8s/policy.yaml": POLICY, "k8s/debug.yaml": SUPPRESSED, "compose.yaml": COMPOSE,
             "broken/deploy.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n",
             "broken/main.tf": 'resource "x" "y" {\n  a = \n'}
    for i in range(n):
        files[f"k8s/deploy-{i}.yaml"] = DEPLOYMENT.format(i=i, privileged=str(i % 2 == 0).lower(),
                                                         token="a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R" + str(i))
        files[f"img{i}/Dockerfile"] = DOCKERFILE.format(i=18 + i, token="x" * 30 + str(i))
        files[f"tf{i % 3}/main{i}.tf"] = MAIN_TF.format(i=i)
    for d in range(3):
        files[f"tf{d}/variables.tf"] = f'variable "image" {{\n  default = "nginx:1.{d}"\n}}\n'
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    mixed_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / ".user-cache"))
    return tmp_path


def cli(capsys, *args) -> tuple[int, str]:
    from linter.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["scan", "--no-cache", *args])
    return exc.value.code, capsys.readouterr().out


@pytest.fixture
def pool_calls(monkeypatch):
    """Force the pool on for any size, and record that it ran."""
    calls = []
    real = parallel._run_pool

    def spy(units, ctx, jobs, results, progress):
        calls.append((len(units), jobs))
        return real(units, ctx, jobs, results, progress)

    monkeypatch.setattr(parallel, "PARALLEL_THRESHOLD", 0)
    monkeypatch.setattr(parallel, "_run_pool", spy)
    return calls


@pytest.mark.parametrize("fmt", ["json", "text", "sarif"])
def test_workers_give_the_single_process_report_byte_for_byte(tree, capsys, pool_calls, fmt):
    code1, one = cli(capsys, "-j", "1", "-f", fmt, ".")
    assert pool_calls == []
    code3, three = cli(capsys, "-j", "3", "-f", fmt, ".")
    assert pool_calls and pool_calls[0][1] == 3
    assert (code3, three) == (code1, one)
    if fmt == "json":
        import json

        doc = json.loads(one)
        rules = {(f["rule_name"], f["path"].split("/")[0]) for f in doc["findings"]}
        # per-file checks of every format, a cross-file fact, a suppression and parse errors survived
        assert {("privileged-container", "k8s"), ("plaintext-secret", "compose.yaml"),
                ("privileged-container", "tf0"), ("curl-pipe-shell", "img0"),
                ("missing-network-policy", "k8s")} <= rules
        covered = [f for f in doc["findings"] if f["rule_name"] == "missing-network-policy"]
        assert "k8s/deploy-1.yaml" not in {f["path"] for f in covered}
        assert any(f["suppressed"] for f in doc["findings"])
        assert {e["path"] for e in doc["errors"] if e["level"] == "error"} >= {"broken/deploy.yaml", "broken/main.tf"}


def test_small_runs_never_start_workers(tree, capsys, monkeypatch):
    def no_pool(*a, **k):
        raise AssertionError("a worker pool was started for a small run")

    monkeypatch.setattr(parallel, "_run_pool", no_pool)
    code, out = cli(capsys, "-j", "8", ".")
    assert code == 1 and "finding" in out
    code, out = cli(capsys, "-j", "8", "k8s/deploy-0.yaml")
    assert code == 1 and "privileged-container" in out


def test_an_unpicklable_result_is_recomputed_in_the_parent(tree, capsys, pool_calls, monkeypatch):
    _, expected = cli(capsys, "-j", "1", "-f", "json", ".")
    parent = os.getpid()
    real_store = parallel._store

    def store(ctx, unit, parsed, findings, digest):
        if os.getpid() != parent and unit.path.endswith(".yaml"):
            return None  # what a parser keeping an unpicklable object causes
        return real_store(ctx, unit, parsed, findings, digest)

    monkeypatch.setattr(parallel, "_store", store)
    _, out = cli(capsys, "-j", "2", "-f", "json", ".")
    assert pool_calls and out == expected


def test_a_dying_worker_costs_parallelism_not_results(tree, capsys, pool_calls, monkeypatch):
    _, expected = cli(capsys, "-j", "1", "-f", "json", ".")
    parent = os.getpid()
    real_run = parallel.run_unit

    def run_unit(unit, ctx):
        if os.getpid() != parent and unit.path == "k8s/debug.yaml":
            os._exit(3)  # a segfault in a C extension looks like this to the pool
        return real_run(unit, ctx)

    monkeypatch.setattr(parallel, "run_unit", run_unit)
    _, out = cli(capsys, "-j", "2", "-f", "json", ".")
    assert pool_calls and out == expected


def test_units_are_files_and_terraform_module_directories():
    cands = [Candidate("a/x.yaml", "yaml", 10), Candidate("m/main.tf", "terraform", 100),
             Candidate("Dockerfile", "dockerfile", 5), Candidate("m/vars.tf", "terraform", 50),
             Candidate("m/x.tf.json", "terraform-json", 10), Candidate("n/main.tf", "terraform", 1)]
    units = parallel.make_units(cands)
    assert [(u.kind, u.path, [c.path for c in u.cands]) for u in units] == [
        ("file", "a/x.yaml", ["a/x.yaml"]), ("file", "Dockerfile", ["Dockerfile"]),
        ("module", "m", ["m/main.tf", "m/vars.tf", "m/x.tf.json"]), ("module", "n", ["n/main.tf"])]
    assert [u.index for u in units] == [0, 1, 2, 3]
    assert units[2].weight == 160 * parallel.TERRAFORM_WEIGHT and units[0].weight == 10


def test_batches_start_with_the_biggest_unit_and_hold_every_unit_once():
    sizes = [10, 300, 40_000, 7] * 50 + [5_000_000] + [20_000] * 100
    units = parallel.make_units([Candidate(f"f{i}.yaml", "yaml", size) for i, size in enumerate(sizes)])
    batches = parallel._batches(units, 2)
    assert [u.weight for u in batches[0]] == [5_000_000]  # the 1.9 MB CRD starts first, alone
    weights = [sum(u.weight for u in b) for b in batches]
    assert len(batches) > 4 and max(weights[1:]) < 5_000_000  # the rest is packed, not one unit per task
    flat = [u.index for b in batches for u in b]
    assert sorted(flat) == list(range(len(units)))


def test_model_objects_pickle(tmp_path, registry):
    """Workers send ParsedFiles and Findings back pickled: every format's model must survive the
    trip with its identity-sensitive parts (the UNKNOWN singleton, shared sub-objects)."""
    from linter.model import UNKNOWN, Diagnostic, Location
    from linter.scan import ScanOptions, scan, select_checks

    assert pickle.loads(pickle.dumps(UNKNOWN)) is UNKNOWN
    loc = Location("a.yaml", 3, 5, 3, 9)
    assert pickle.loads(pickle.dumps(loc)) == loc
    d = pickle.loads(pickle.dumps(Diagnostic("a.yaml", 2, "bad", 4, "warning")))
    assert (d.path, d.line, d.message, d.column, d.level) == ("a.yaml", 2, "bad", 4, "warning")
    mixed_tree(tmp_path, n=2)
    (tmp_path / "tf0/terraform.tfvars").write_text("image = var_not_allowed_here\n")
    result = scan(ScanOptions(paths=[str(tmp_path)], checks=select_checks(registry, None, None)))
    copy = pickle.loads(pickle.dumps((result.parsed, result.findings)))
    def state(f):  # a Suppression has no __eq__: compare what it says
        return tuple(repr(v) if name == "suppression" else v for name, v in zip(f.__slots__, f.__getstate__()))

    assert [state(f) for f in copy[1]] == [state(f) for f in result.findings]
    for before, after in zip(result.parsed, copy[0]):
        assert (before.path, before.format, len(before.resources)) == (after.path, after.format, len(after.resources))
        for r in after.resources:
            for value in vars(r).values():
                if type(value).__name__ == "_Unknown":
                    assert value is UNKNOWN
            if r.type_name == "container" and r.workload is not None:
                assert r in r.workload.containers  # the back reference is the same object


def test_default_jobs_counts_usable_cpus():
    assert parallel.default_jobs() >= 1
    if hasattr(os, "sched_getaffinity"):
        assert parallel.default_jobs() == len(os.sched_getaffinity(0))


class _Stream:
    def __init__(self, tty: bool):
        self.tty, self.text = tty, ""

    def isatty(self):
        return self.tty

    def write(self, s):
        self.text += s

    def flush(self):
        pass


def test_progress_bar_only_on_a_terminal_only_after_a_second_and_erased():
    from linter import progress

    assert progress.for_terminal(False, _Stream(tty=False)) is None  # redirected stderr: CI logs stay clean
    assert progress.for_terminal(True, _Stream(tty=True)) is None  # --quiet
    stream, now = _Stream(tty=True), [0.0]
    bar = progress.Progress(stream, clock=lambda: now[0])
    bar.start(files=10, work=1000)
    now[0] = 0.5
    bar.advance(2, 200)
    assert stream.text == ""  # a sub-second run never shows a bar
    now[0] = 1.2
    bar.advance(3, 300)
    assert "50%" in stream.text and "5/10 files" in stream.text and "\n" not in stream.text
    now[0] = 1.25
    bar.advance(1, 100)
    assert "60%" not in stream.text  # redrawn at most every 0.1 s
    bar.finish()
    assert stream.text.endswith("\r\033[K")  # erased: the report starts on a clean line


def test_progress_counts_every_file_once_with_workers(tree, capsys, pool_calls, monkeypatch):
    from linter import progress

    seen = []

    class Recorder(progress.Progress):
        def start(self, files, work, done_files=0):
            seen.append(("start", files, done_files))
            super().start(files, work, done_files)

        def finish(self):
            seen.append(("finish", self.done_files, self.done_work == self.work))

    monkeypatch.setattr(progress, "for_terminal", lambda quiet, stream=None: Recorder(_Stream(tty=True)))
    cli(capsys, "-j", "2", ".")
    assert pool_calls
    assert seen[0][0] == "start" and seen[-1] == ("finish", seen[0][1], True)
