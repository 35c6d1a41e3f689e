"""The tool's own security: no network, no secret in any output, safe YAML, atomic reports,
a clean Ctrl-C, deterministic output."""
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: full secret values planted in the scanned files; no output may contain any of them
SECRETS = {
    "aws_key_id": "AKIAQWERTYUIOPASDFGH",
    "aws_secret": "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",
    "github": "ghp_Zq8Ht3Xk2vWJalrXUtnFEMIK7MDENGbPxRfiC",
    "password": "Tr0ub4dor-horse-Battery-staple",
}

FILES = {
    "Dockerfile": f"""FROM alpine:3.20
ENV AWS_ACCESS_KEY_ID={SECRETS['aws_key_id']}
ENV AWS_SECRET_ACCESS_KEY={SECRETS['aws_secret']}
ARG GITHUB_TOKEN={SECRETS['github']}
USER 1000
""",
    "k8s/pod.yaml": f"""apiVersion: v1
kind: Pod
metadata: {{name: app}}
spec:
  containers:
    - name: app
      image: nginx:1.27
      env:
        - name: DB_PASSWORD
          value: "{SECRETS['password']}"
        - name: GITHUB_TOKEN
          value: {SECRETS['github']}
---
apiVersion: v1
kind: Secret
metadata: {{name: creds}}
stringData:
  aws_secret_access_key: {SECRETS['aws_secret']}
---
apiVersion: v1
kind: Pod
metadata: {{name: broken}}
spec:
  containers:
    - name: app
      image: nginx:1.27
      env: DB_PASSWORD={SECRETS['password']}
""",
    "compose.yaml": f"""services:
  web:
    image: nginx:1.27
    environment:
      DB_PASSWORD: {SECRETS['password']}
      AWS_SECRET_ACCESS_KEY: {SECRETS['aws_secret']}
""",
    "infra/main.tf": f"""variable "db_password" {{
  default = "{SECRETS['password']}"
}}
resource "docker_container" "web" {{
  name  = "web"
  image = "nginx:1.27"
  env   = ["GITHUB_TOKEN={SECRETS['github']}"]
}}
""",
}


def _write(tmp_path: Path, files: dict) -> None:
    for name, content in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)


def _available_formats() -> list[str]:
    from linter.report import FORMATS

    out = []
    for name, module in FORMATS.items():
        try:
            importlib.import_module(f"linter.report.{module}")
        except ImportError:
            continue
        out.append(name)
    return out


def _leaks(text: str) -> list[str]:
    return [k for k, v in SECRETS.items() if v in text]


def _iaclint(args, cwd, **kw):
    return subprocess.run([sys.executable, "-m", "linter", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, **kw)


# --------------------------------------------------------------------------- network

def test_a_full_scan_never_touches_the_network(tmp_path, monkeypatch):
    import shutil

    from linter.cli import main

    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    _write(tmp_path / "examples", FILES)
    calls = []

    def refuse(*args, **kw):
        calls.append(args)
        raise OSError("network access attempted during a scan")

    class NoSocket(socket.socket):
        def __init__(self, *args, **kw):
            refuse(*args)

    monkeypatch.setattr(socket, "socket", NoSocket)
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "socketpair", "fromfd"):
        monkeypatch.setattr(socket, name, refuse)
    monkeypatch.chdir(tmp_path)
    formats = _available_formats()
    args = ["scan", "examples", "--jobs", "1"]
    for fmt in formats:
        args += ["-f", f"{fmt}:out.{fmt}"]
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 1
    assert calls == []
    for fmt in formats:
        assert (tmp_path / f"out.{fmt}").stat().st_size > 0, fmt


# --------------------------------------------------------------------------- secrets

@pytest.fixture(scope="module")
def secret_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("secrets")
    _write(root, FILES)
    return root


@pytest.mark.parametrize("fmt", _available_formats())
def test_no_output_format_contains_a_secret(secret_tree, fmt):
    proc = _iaclint(["scan", "--no-cache", "-f", fmt, "."], secret_tree)
    assert proc.returncode == 1, proc.stderr
    assert _leaks(proc.stdout + proc.stderr) == []


def test_the_secrets_are_found_so_the_test_above_means_something(secret_tree):
    proc = _iaclint(["scan", "--no-cache", "-f", "json", "--select", "plaintext-secret", "."], secret_tree)
    found = {(f["path"], f["line"]) for f in json.loads(proc.stdout)["findings"]}
    assert {("Dockerfile", 3), ("Dockerfile", 4), ("k8s/pod.yaml", 10), ("k8s/pod.yaml", 12),
            ("k8s/pod.yaml", 18), ("compose.yaml", 5), ("compose.yaml", 6), ("infra/main.tf", 2)} <= found


def test_suppressed_and_baseline_outputs_contain_no_secret(secret_tree, tmp_path):
    baseline = tmp_path / "baseline.json"
    proc = _iaclint(["scan", "--no-cache", "--write-baseline", str(baseline), "."], secret_tree)
    assert proc.returncode == 0, proc.stderr
    assert _leaks(baseline.read_text()) == []
    outputs = []
    for fmt in _available_formats():
        out = tmp_path / f"all.{fmt}"
        args = ["scan", "--no-cache", "--baseline", str(baseline), "--show-suppressed", "-f", f"{fmt}:{out}"]
        if fmt == "sarif":
            args.append("--sarif-include-suppressed")
        proc = _iaclint(args + ["."], secret_tree)
        assert proc.returncode in (0, 1), proc.stderr
        outputs.append(out.read_text())
    assert _leaks("\n".join(outputs)) == []


def test_diagnostics_about_wrong_shapes_do_not_quote_kubernetes_secrets(secret_tree):
    proc = _iaclint(["scan", "--no-cache", "-f", "json", "k8s"], secret_tree)
    errors = json.loads(proc.stdout)["errors"]
    (env,) = [e for e in errors if "env should be a list" in e["message"]]
    assert SECRETS["password"] not in env["message"] and "characters" in env["message"]


def test_diagnostics_about_wrong_shapes_do_not_quote_compose_secrets(tmp_path):
    # Fails while linter/parsers/compose.py's _typename quotes any string ("environment should be a
    # mapping ..., found the string 'DB_PASSWORD=...'"); kubernetes.py masks it.
    pytest.importorskip("linter.parsers.compose")
    _write(tmp_path, {"compose.yaml": f"services:\n  web:\n    image: nginx:1.27\n"
                                      f"    environment: DB_PASSWORD={SECRETS['password']}\n"})
    proc = _iaclint(["scan", "--no-cache", "-f", "json", "."], tmp_path)
    assert _leaks(proc.stdout) == []


def test_the_result_cache_holds_no_secret(tmp_path):
    # linter/cache.py promises that Setting and Instruction values are blanked before an entry is
    # written ("literal secrets are never written"); CI systems cache and upload such directories.
    _write(tmp_path, FILES)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "user-cache"))
    proc = _iaclint(["scan", "."], tmp_path, env=env)
    assert proc.returncode == 1, proc.stderr
    cache = tmp_path / ".iaclint_cache"
    if not cache.is_dir():
        pytest.skip("no result cache written")
    leaked = {str(p.relative_to(tmp_path)): k for p in cache.rglob("*") if p.is_file()
              for k, v in SECRETS.items() if v.encode() in p.read_bytes()}
    assert leaked == {}


# --------------------------------------------------------------------------- safe YAML

@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system", "!!python/object/new:os.system", "!!python/object:os.system",
    "!!python/name:os.system", "!!python/module:os", "!<tag:yaml.org,2002:python/object/apply:os.system>",
])
def test_python_tags_never_execute(tmp_path, tag):
    marker = tmp_path / "executed"
    target = f'["touch {marker}"]' if not tag.endswith(("name:os.system", "module:os")) else "''"
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata:\n  a: {tag} {target}\n"
    from linter.yamlload import load_documents

    docs = [d for d, _ in load_documents(text)]
    assert not marker.exists()
    value = docs[0]["data"]["a"]
    assert isinstance(value, (str, list, dict)), type(value)  # plain data, whatever the tag said


def test_the_loader_is_a_safe_loader():
    import yaml

    from linter.yamlload import LintLoader

    assert issubclass(LintLoader, (yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    assert "tag:yaml.org,2002:python/object" not in LintLoader.yaml_constructors


# --------------------------------------------------------------------------- atomic reports

def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".iaclint-") or p.suffix == ".tmp")


def test_failed_write_leaves_no_temp_file_and_no_half_report(tmp_path, monkeypatch):
    from linter.report import write_atomic

    target = tmp_path / "report.json"
    target.write_text("previous complete report\n")

    class Boom(OSError):
        pass

    real_replace = os.replace

    def failing_replace(src, dst):
        raise Boom(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(Boom):
        write_atomic(str(target), "new report " * 10_000)
    monkeypatch.setattr(os, "replace", real_replace)
    assert target.read_text() == "previous complete report\n"
    assert _leftovers(tmp_path) == []


def test_interrupted_write_leaves_no_temp_file(tmp_path, monkeypatch):
    from linter.report import write_atomic

    target = tmp_path / "report.sarif"
    real_fdopen = os.fdopen

    def interrupted_fdopen(fd, *args, **kw):
        fh = real_fdopen(fd, *args, **kw)

        def write(text):
            fh.__class__.write(fh, text[: len(text) // 2])
            raise KeyboardInterrupt

        fh.write = write
        return fh

    monkeypatch.setattr(os, "fdopen", interrupted_fdopen)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(str(target), "x" * 100_000)
    assert not target.exists()
    assert _leftovers(tmp_path) == []


def test_unwritable_output_is_a_clean_error(tmp_path):
    (tmp_path / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n")
    proc = _iaclint(["scan", "--no-cache", "-f", "json:no/such/dir/out.json", "."], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("iaclint: error: cannot write no/such/dir/out.json")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_exits_130_with_a_message_and_no_temp_files(tmp_path, jobs):
    doc = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d{i}}}\nspec:\n  template:\n    spec:\n"
           "      containers:\n        - {{name: web, image: nginx, securityContext: {{privileged: true}}}}\n---\n")
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(2500):
        (tree / f"f{i}.yaml").write_text(doc.format(i=i) * 8)
    proc = subprocess.Popen([sys.executable, "-m", "linter", "scan", "--no-cache", "--jobs", jobs,
                             "-f", "json:out.json", "-f", "sarif:out.sarif", "tree"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)  # well inside the scan: imports done, files being parsed
    assert proc.poll() is None, "the scan finished before the interrupt; make the tree larger"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err == "iaclint: interrupted\n"
    assert _leftovers(tmp_path) == [] and not (tmp_path / "out.json").exists()


def test_interrupt_inside_typer_is_caught_by_main(monkeypatch):
    """typer converts KeyboardInterrupt into a silent exit 130; main()'s own SIGINT handler
    raises something typer does not catch, so the message is printed."""
    from linter import cli

    before = signal.getsignal(signal.SIGINT)
    if before is not signal.default_int_handler:
        pytest.skip("SIGINT is not at Python's default here (ignored by the test runner)")

    def interrupted_scan(*args, **kw):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)  # the handler raises here

    monkeypatch.setattr("linter.scan.scan", interrupted_scan)
    with pytest.raises(SystemExit) as exc:
        cli.main(["scan", "--no-cache", str(ROOT / "examples")])
    assert exc.value.code == 130
    assert signal.getsignal(signal.SIGINT) is before  # restored


# --------------------------------------------------------------------------- determinism

@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_output_is_byte_identical_across_runs(secret_tree, fmt):
    if fmt not in _available_formats():
        pytest.skip(f"{fmt} not available")
    outs = {_iaclint(["scan", "--no-cache", "--jobs", jobs, "-f", fmt, "."], secret_tree).stdout
            for jobs in ("1", "1", "2")}
    assert len(outs) == 1


# --------------------------------------------------------------------------- terminal safety

def test_text_output_carries_no_control_characters_from_the_input(tmp_path):
    """A name like "\\e[2K\\r" in a manifest would erase the previous line of a terminal or CI log
    -- the line reporting a finding.  Text output (what people read on a terminal) must show
    control characters escaped, never raw.  Fails while linter/report/text.py prints messages as
    they are."""
    (tmp_path / "pod.yaml").write_text('apiVersion: v1\nkind: Pod\nmetadata: {name: "x\\e[2K\\ry"}\n'
                                       'spec:\n  containers:\n    - name: "web\\e]0;pwned\\a\\e[1A\\e[2K"\n'
                                       '      image: nginx:1.27\n      securityContext: {privileged: true}\n')
    proc = _iaclint(["scan", "--no-cache", "--no-color", "-f", "text", "."], tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "privileged-container" in proc.stdout
    raw = [c for c in proc.stdout if (ord(c) < 32 and c not in "\n\t") or c == "\x7f"]
    assert raw == []


def test_github_annotations_cannot_be_forged_from_the_input(tmp_path):
    """A newline in a name or a file name must not start a workflow command of its own."""
    if "github" not in _available_formats():
        pytest.skip("github format not available")
    pod = ('apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n'
           '    - name: "web\\n::error file=evil.yaml,line=1::forged%0A\\r::add-mask::x"\n'
           '      image: nginx:1.27\n      securityContext: {privileged: true}\n')
    (tmp_path / "pod.yaml").write_text(pod)
    (tmp_path / "nl\n::notice::forged.yaml").write_text(pod)
    proc = _iaclint(["scan", "--no-cache", "-f", "github", "--select", "privileged-container", "."], tmp_path)
    lines = proc.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("::error file=") for line in lines), lines
    assert "::add-mask::" not in proc.stdout.replace("%0D::add-mask::", "")
