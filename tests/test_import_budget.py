"""Start-up budget of the pre-commit path: scanning one file imports only what that file needs.

Each case runs the CLI's ``main`` in a fresh interpreter on one file (a YAML manifest, a
Dockerfile) and lists ``sys.modules`` afterwards.  A module here that should not be is tens of
milliseconds on every commit (measured: hcl2+lark ~95 ms, jsonschema ~96 ms, sarif_om ~82 ms,
pydantic ~70 ms, rich ~98 ms, PyYAML ~12 ms), and it creeps in silently through one module-level
import -- so the budget is a test.  See benchmarks/run.py for the timings themselves.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: never on a plain scan: Terraform's parser, schema validation, SARIF objects, typer's heavy extras,
#: and the worker pool (a one-file run must not even import it)
NEVER = ("hcl2", "lark", "jsonschema", "referencing", "sarif_om", "attr", "pydantic", "rich",
         "multiprocessing", "concurrent.futures", "xml.etree", "tomllib", "tomli")
ONLY_FOR = {
    # the built-in checks come from the compiled cache on every run but the first, so a
    # Dockerfile-only commit does not load PyYAML at all
    "dockerfile": ("yaml",),
}

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.25
"""
DOCKERFILE = "FROM python:3.12-slim\nCOPY . /app\nRUN pip install -r /app/requirements.txt\nCMD [\"python\", \"/app/main.py\"]\n"

PROBE = """\
import json, sys
sys.argv = ["iaclint", "scan", *sys.argv[1:]]
from linter.cli import main
try:
    main()
except SystemExit:
    pass
json.dump(sorted(sys.modules), sys.stderr)
"""


def loaded_modules(tmp_path: Path, name: str, text: str, *args: str) -> set[str]:
    """Modules after a scan of a *changed* file (the pre-commit case: its result is not cached)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IACLINT_", "PYTHONSTARTUP"))}
    env["XDG_CACHE_HOME"] = str(tmp_path / "user-cache")
    env["PYTHONPATH"] = str(ROOT)
    for i in range(2):  # the first run builds the compiled-checks cache; the budget is for every run after
        (tmp_path / name).write_text(text + f"# edit {i}\n")
        proc = subprocess.run([sys.executable, "-c", PROBE, *args, name], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "finding" in proc.stdout, proc.stdout  # the scan really ran
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


def offenders(modules: set[str], forbidden) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in forbidden))


@pytest.mark.parametrize("kind,name,text", [("yaml", "deploy.yaml", MANIFEST), ("dockerfile", "Dockerfile", DOCKERFILE)],
                         ids=["yaml", "dockerfile"])
def test_one_file_imports_only_what_it_needs(tmp_path, kind, name, text):
    modules = loaded_modules(tmp_path, name, text)
    assert offenders(modules, NEVER + ONLY_FOR.get(kind, ())) == []
    needed = {"yaml": "linter.parsers.kubernetes", "dockerfile": "linter.parsers.dockerfile"}[kind]
    assert needed in modules  # the probe does see lazily imported modules


def test_json_output_does_not_load_sarif_machinery(tmp_path):
    modules = loaded_modules(tmp_path, "deploy.yaml", MANIFEST, "-f", "json")
    assert offenders(modules, NEVER) == []
    assert "linter.report.json_report" in modules and "linter.report.sarif" not in modules
