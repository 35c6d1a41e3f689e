"""Hostile and broken input: never a traceback, never a hang, never a leak.

Every named bad input is scanned next to a good file with a known finding: the bad one must get
a clear diagnostic (path, line where known, what is wrong) and the good one must still be
reported, so one broken file never costs the rest of the run.  File-system cases are in
test_hostile_fs.py, the other formats' bad inputs in test_hostile_formats.py.
"""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HELM_CORPUS = ROOT.parent / "shared" / "corpus" / "real-helm-templates"

GOOD = """apiVersion: v1
kind: Pod
metadata:
  name: good
spec:
  containers:
    - name: web
      image: nginx:1.27
      securityContext:
        privileged: true
"""
GOOD_LINE = 10  # privileged: true

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def privileged_lines(result, path):
    return sorted(f.line for f in result.findings if f.path == path and f.rule_name == "privileged-container")


def diags(result, path, level=None):
    return [d for d in result.diagnostics if d.path == path and (level is None or d.level == level)]


def no_internal_errors(result):
    bad = [d for d in result.diagnostics if "internal error" in d.message]
    assert not bad, bad


@pytest.fixture
def scan_with_good(scan_files):
    """scan_with_good(name, content) scans the bad file next to good.yaml and checks that the
    good file's finding survived; returns the ScanResult."""

    def run(name, content, **kw):
        files = {name: content, "good.yaml": GOOD}
        result = scan_files(files, **kw)
        assert privileged_lines(result, "good.yaml") == [GOOD_LINE], "the good file was not fully checked"
        no_internal_errors(result)
        return result

    return run


# --------------------------------------------------------------------------- empty and binary

@pytest.mark.parametrize("name,content", [
    ("empty.yaml", b""),
    ("blank.yaml", b"   \n\n  \t \n"),
    ("dashes.yaml", b"---\n"),
    ("documents.yaml", b"---\n---\n# only a comment\n...\n"),
])
def test_empty_yaml_is_silent(scan_with_good, name, content):
    result = scan_with_good(name, content)
    assert diags(result, name) == []


def test_empty_dockerfile_is_reported_not_crashed(scan_with_good):
    result = scan_with_good("Dockerfile", b"")
    # An empty Dockerfile cannot be built; whatever the parser says, it must not be a crash.
    assert all(d.line in (None, 1) for d in diags(result, "Dockerfile"))


@pytest.mark.parametrize("name", ["Dockerfile", "logo.yaml"])
def test_png_under_a_scanned_name(scan_with_good, name):
    result = scan_with_good(name, PNG)
    (d,) = diags(result, name)
    assert d.level == "error" and "binary" in d.message


def test_latin1_names_line_and_column_of_first_bad_byte(scan_with_good):
    content = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: caf\xe9\n".encode("latin-1")
    result = scan_with_good("latin1.yaml", content)
    (d,) = diags(result, "latin1.yaml")
    assert (d.line, d.column, d.level) == (4, 12, "error")
    assert "not valid UTF-8" in d.message and "0xe9" in d.message


def test_utf16_without_bom_is_named(scan_with_good):
    result = scan_with_good("wide.yaml", GOOD.encode("utf-16-le"))
    (d,) = diags(result, "wide.yaml")
    assert "UTF-16 without a byte-order mark" in d.message


@pytest.mark.parametrize("encoding,bom", [
    ("utf-8", b"\xef\xbb\xbf"),
    ("utf-16-le", b"\xff\xfe"),
    ("utf-16-be", b"\xfe\xff"),
])
def test_byte_order_marks_parse_normally(scan_with_good, encoding, bom):
    result = scan_with_good("bom.yaml", bom + GOOD.encode(encoding))
    assert diags(result, "bom.yaml") == []
    assert privileged_lines(result, "bom.yaml") == [GOOD_LINE]


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "lone-cr"])
def test_line_endings_keep_line_numbers(scan_with_good, newline):
    result = scan_with_good("eol.yaml", GOOD.replace("\n", newline).encode())
    assert diags(result, "eol.yaml") == []
    assert privileged_lines(result, "eol.yaml") == [GOOD_LINE]


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "lone-cr"])
def test_line_endings_keep_decode_error_lines(newline):
    from linter.source import DecodeError, decode

    data = newline.join(["a: 1", "b: 2", "c: caf\xe9"]).encode("latin-1")
    with pytest.raises(DecodeError) as exc:
        decode(data)
    assert (exc.value.line, exc.value.column) == (3, 7)


def test_crlf_dockerfile_keeps_line_numbers(scan_with_good):
    content = "FROM alpine:3.20\n\n# a comment\nUSER root\n".replace("\n", "\r\n")
    result = scan_with_good("Dockerfile", content.encode())
    root = [f.line for f in result.findings if f.path == "Dockerfile" and f.rule_name == "run-as-root"]
    assert root == [4]


# --------------------------------------------------------------------------- YAML syntax

def test_syntax_error_reports_libyamls_line_and_column(scan_with_good):
    content = GOOD.replace("image: nginx:1.27", "image: [nginx:1.27")
    with pytest.raises(yaml.MarkedYAMLError) as exc:
        yaml.load(content, Loader=yaml.CSafeLoader)
    mark = exc.value.problem_mark
    result = scan_with_good("broken.yaml", content)
    (d,) = diags(result, "broken.yaml")
    assert (d.line, d.column) == (mark.line + 1, mark.column + 1)
    assert d.level == "error" and d.message.startswith("YAML syntax error:")


def test_tab_indentation_says_tab(scan_with_good):
    result = scan_with_good("tabs.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: tabbed\n")
    (d,) = diags(result, "tabs.yaml")
    assert (d.line, d.column, d.level) == (4, 1, "error")
    assert "tab" in d.message


def test_documents_before_a_syntax_error_are_checked(scan_with_good):
    result = scan_with_good("partial.yaml", GOOD + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: [\n")
    assert privileged_lines(result, "partial.yaml") == [GOOD_LINE]
    (d,) = diags(result, "partial.yaml")
    assert d.level == "error" and d.line >= 14


def test_syntax_error_in_unrelated_yaml_is_not_ours_to_report(scan_with_good):
    # CI configs, Helm values...: not manifests, so their syntax is someone else's business.
    result = scan_with_good("values.yaml", "replicas: [1\nimage: x\n")
    assert diags(result, "values.yaml") == []


def test_duplicate_privileged_is_reported_with_both_lines(scan_with_good):
    content = GOOD + "        privileged: false\n"
    result = scan_with_good("dup.yaml", content)
    (d,) = diags(result, "dup.yaml")
    assert (d.line, d.column, d.level) == (11, 9, "warning")
    assert "duplicate key 'privileged'" in d.message and "line 10" in d.message


def test_overriding_a_merged_key_is_not_a_duplicate(scan_with_good):
    content = """x-sc: &sc
  privileged: false
  runAsUser: 1000
apiVersion: v1
kind: Pod
metadata: {name: merged}
spec:
  containers:
    - name: web
      image: nginx:1.27
      securityContext:
        <<: *sc
        privileged: true
"""
    result = scan_with_good("merged.yaml", content)
    assert diags(result, "merged.yaml") == []
    assert privileged_lines(result, "merged.yaml") == [13]


# --------------------------------------------------------------------------- YAML 1.1 surprises

def _model(content: str, name="pod.yaml"):
    from linter.scan import parse_bytes

    return parse_bytes(name, "yaml", content.encode())


YAML11 = """apiVersion: v1
kind: Pod
metadata:
  name: surprises
  labels:
    country: NO
    build: 0755
spec:
  hostNetwork: yes
  hostPID: on
  hostIPC: off
  containers:
    - name: web
      image: nginx:1.27
      securityContext:
        privileged: "true"
        runAsUser: 0755
        runAsGroup: "0755"
"""


def test_yaml11_values_read_as_kubernetes_reads_them():
    """Kubernetes decodes manifests with YAML 1.1 rules (sigs.k8s.io/yaml over go-yaml v2), as
    PyYAML does: `yes`/`on` are true, `0755` is octal 493.  See README, "YAML 1.1 and type
    surprises"."""
    pf = _model(YAML11)
    (w,) = pf.of_type("workload")
    (c,) = pf.of_type("container")
    assert (w.host_network, w.host_pid, w.host_ipc) == (True, True, False)
    assert w.labels == {"country": "False", "build": "493"}
    assert c.run_as_user == 493          # octal, as the API server reads it: not root
    assert c.run_as_group == 755         # the quoted string is read as the decimal it spells


def test_quoted_boolean_is_judged_and_warned(scan_with_good):
    result = scan_with_good("quoted.yaml", YAML11)
    assert privileged_lines(result, "quoted.yaml") == [16]
    (d,) = [d for d in diags(result, "quoted.yaml") if "privileged" in d.message]
    assert (d.line, d.column, d.level) == (16, 9, "warning")
    assert "string 'true'" in d.message


def test_anchors_and_aliases_are_resolved(scan_with_good):
    content = """x-sc: &sc
  privileged: true
apiVersion: v1
kind: Pod
metadata: {name: anchors}
spec:
  containers:
    - name: a
      image: nginx:1.27
      securityContext: *sc
    - name: b
      image: nginx:1.27
      securityContext:
        <<: *sc
        runAsUser: 1000
"""
    result = scan_with_good("anchors.yaml", content)
    assert diags(result, "anchors.yaml") == []
    # the alias points where the value is written, the merge at the merge key
    assert privileged_lines(result, "anchors.yaml") == [2, 14]


def test_recursive_alias_is_not_a_hang(scan_with_good):
    content = """apiVersion: v1
kind: Pod
metadata: &m
  name: loop
  labels: *m
spec:
  containers: &c
    - *c
"""
    result = scan_with_good("recursive.yaml", content)
    (d,) = diags(result, "recursive.yaml")
    assert d.level == "error" and "recursive" in d.message and d.line == 3


def _billion_laughs(levels=9, width=9):
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: lol}", "data:",
             '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghijklmnop"[: levels - 1]:
        lines.append(f"  {name}: &{name} [" + ", ".join([f"*{prev}"] * width) + "]")
        prev = name
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_bounded_and_named(scan_with_good):
    import tracemalloc

    tracemalloc.start()
    t0 = time.perf_counter()
    result = scan_with_good("bomb.yaml", _billion_laughs())
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    (d,) = diags(result, "bomb.yaml")
    assert d.level == "error" and "alias bomb" in d.message and not d.message.startswith("YAML syntax")
    assert d.line == 1
    assert elapsed < 5 and peak < 50 * 1024 * 1024


def test_many_aliases_of_a_small_node_are_fine():
    # 2,000 aliases of a small list expand to ~6,000 nodes: legitimate YAML, well under the
    # expanded-size bound that stops bombs, so it loads without a diagnostic, quickly.
    content = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: wide}\nx: &x [1, 2]\ny: [" + \
              ", ".join(["*x"] * 2000) + "]\n"
    t0 = time.perf_counter()
    pf = _model(content, "wide.yaml")
    assert not pf.diagnostics
    assert time.perf_counter() - t0 < 5


@pytest.mark.parametrize("shape", ["flow", "block-sequence", "block-mapping"])
def test_ten_thousand_levels_of_nesting(scan_with_good, shape):
    head = "apiVersion: v1\nkind: Pod\nmetadata: {name: deep}\nspec:\n"
    if shape == "flow":
        content = head + "  x: " + "[" * 10_000 + "]" * 10_000 + "\n"
    elif shape == "block-sequence":
        content = head + "  x:\n" + "  " + "- " * 10_000 + "leaf\n"
    else:  # one column of indentation per level: 10,000 levels would be 50 MB, 1,000 make the point
        content = head + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(1_000)) + " " * 1_001 + "leaf\n"
    t0 = time.perf_counter()
    result = scan_with_good("deep.yaml", content)
    assert time.perf_counter() - t0 < 10
    (d,) = diags(result, "deep.yaml")
    assert d.level == "error" and "nested more than" in d.message and d.line is not None


def test_hundred_thousand_levels_do_not_kill_the_process(tmp_path):
    """libyaml composes recursively in C; before the depth guard this 200 KB file made the
    whole scan die with SIGSEGV (exit -11), losing every other file's results."""
    (tmp_path / "deep.yaml").write_text("apiVersion: v1\nkind: Pod\nx: " + "[" * 100_000 + "]" * 100_000 + "\n")
    (tmp_path / "good.yaml").write_text(GOOD)
    proc = subprocess.run([sys.executable, "-m", "linter", "scan", "-f", "json", "."], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert '"nested more than 200 levels deep; document not checked"' in proc.stdout
    assert '"rule_name": "privileged-container"' in proc.stdout


# --------------------------------------------------------------------------- size limit

def test_hundred_megabyte_file_is_skipped_without_reading_it(tmp_path):
    big = tmp_path / "huge.yaml"
    with open(big, "wb") as fh:  # sparse: costs no disk and no time
        fh.truncate(100 * 1024 * 1024)
    (tmp_path / "good.yaml").write_text(GOOD)
    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs /proc/self/status (Linux) to read the peak RSS")
    # VmHWM, not getrusage's ru_maxrss: Linux keeps ru_maxrss across exec, so a child of a big
    # pytest worker would report the worker's size.
    code = ("import sys\n"
            "from linter.cli import main\n"
            "try:\n    main(sys.argv[1:])\n"
            "finally:\n"
            "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
            "    sys.stderr.write('RSS_MB=%d\\n' % (int(hwm) // 1024))\n")
    # --jobs 1: a read in a worker process would not show in this process's peak
    proc = subprocess.run([sys.executable, "-c", code, "scan", "--jobs", "1", "-f", "json", "."], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    import json

    doc = json.loads(proc.stdout)
    (skip,) = [e for e in doc["errors"] if e["path"] == "huge.yaml"]
    assert skip["level"] == "notice" and "--max-file-size" in skip["message"] and "100.0 MB" in skip["message"]
    assert any(f["path"] == "good.yaml" and f["rule_name"] == "privileged-container" for f in doc["findings"])
    rss = int(proc.stderr.rsplit("RSS_MB=", 1)[1].split()[0])
    assert rss < 100, f"peak RSS {rss} MB: the skipped file was read into memory"


def test_max_file_size_option_is_honoured(tmp_path, monkeypatch):
    from linter.cli import main

    (tmp_path / "pod.yaml").write_text(GOOD + "# " + "x" * (2 * 1024 * 1024) + "\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["scan", "--max-file-size", "1", "-q", "pod.yaml"])
    assert exc.value.code == 0  # skipped with a notice: nothing found, nothing failed
    with pytest.raises(SystemExit) as exc:
        main(["scan", "--max-file-size", "3", "-q", "pod.yaml"])
    assert exc.value.code == 1


def test_file_that_grew_past_the_limit_after_discovery(tmp_path):
    from linter.discover import Candidate
    from linter.scan import read_and_parse

    p = tmp_path / "grew.yaml"
    p.write_bytes(b"a: 1\n" * 1000)
    pf = read_and_parse(Candidate(str(p), "yaml", 10), max_size=100)
    (d,) = pf.diagnostics
    assert d.level == "notice" and "limit" in d.message


# --------------------------------------------------------------------------- templates and overlays

def _real_helm_template() -> Path:
    candidates = sorted(HELM_CORPUS.glob("GoogleCloudPlatform__microservices-demo/helm-chart/templates/*.yaml"))
    if not candidates:
        pytest.skip("shared corpus of Helm templates not available")
    return candidates[0]


def test_helm_template_gets_one_notice(scan_with_good):
    template = _real_helm_template()
    text = template.read_text()
    assert "{{" in text
    result = scan_with_good("templates-copy.yaml", text)
    (d,) = diags(result, "templates-copy.yaml")
    assert d.level == "notice" and "template" in d.message and "helm template" in d.message


def test_every_real_helm_template_is_a_notice_or_clean():
    from linter.scan import parse_bytes

    files = sorted(HELM_CORPUS.rglob("*.yaml"))
    if not files:
        pytest.skip("shared corpus of Helm templates not available")
    for f in files:
        pf = parse_bytes(str(f), "yaml", f.read_bytes())
        levels = [d.level for d in pf.diagnostics if d.level != "warning"]
        assert levels in ([], ["notice"]), (f, pf.diagnostics)


def test_helm_chart_directory_is_reported_once(scan_files):
    template = _real_helm_template()
    result = scan_files({"chart/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
                         "chart/values.yaml": "image: nginx\n",
                         "chart/templates/a.yaml": template.read_text(),
                         "chart/templates/b.yaml": template.read_text(),
                         "good.yaml": GOOD})
    chart = [d for d in result.diagnostics if d.path.startswith("chart")]
    assert len(chart) == 1 and chart[0].level == "notice" and "not rendered" in chart[0].message
    assert privileged_lines(result, "good.yaml") == [GOOD_LINE]


def test_template_placeholders_in_plain_yaml_are_data(scan_with_good):
    """Prometheus alert text, Swarm/Argo placeholders: plain YAML, linted, no notice."""
    content = GOOD.replace("metadata:\n", "metadata:\n  annotations:\n    summary: '{{ $labels.pod }} is down'\n")
    result = scan_with_good("rule.yaml", content)
    assert diags(result, "rule.yaml") == []
    assert privileged_lines(result, "rule.yaml") == [GOOD_LINE + 2]


def test_placeholder_values_are_unknown_not_findings():
    content = GOOD.replace("nginx:1.27", '"{{IMAGE}}"').replace("privileged: true", 'privileged: "{{PRIV}}"')
    pf = _model(content)
    (c,) = pf.of_type("container")
    from linter.model import UNKNOWN

    assert c.privileged is UNKNOWN and c.image.reference is UNKNOWN
    assert pf.diagnostics == []


def test_placeholder_that_breaks_yaml_loses_only_the_rest(scan_with_good):
    # kubernetes-engine-samples style: `{{HF_TOKEN}}` filled in by envsubst later
    content = GOOD + "---\napiVersion: v1\nkind: Secret\nmetadata: {name: hf}\nstringData:\n  token: {{HF_TOKEN}}\n"
    result = scan_with_good("envsubst.yaml", content)
    assert privileged_lines(result, "envsubst.yaml") == [GOOD_LINE]
    (d,) = diags(result, "envsubst.yaml")
    assert d.level == "notice" and "template placeholders" in d.message and d.line == 16


def test_kustomization_is_recognized_and_its_resources_scanned(scan_files):
    result = scan_files({"base/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\n"
                                                    "kind: Kustomization\nresources: [pod.yaml]\n"
                                                    "images:\n  - {name: nginx, newTag: '1.27'}\n",
                         "base/pod.yaml": GOOD,
                         "overlay/kustomization.yml": "resources:\n  - ../base\n"})
    assert [d.level for d in result.diagnostics] == ["notice", "notice"]
    assert all("kustomization" in d.message for d in result.diagnostics)
    assert privileged_lines(result, "base/pod.yaml") == [GOOD_LINE]


# --------------------------------------------------------------------------- Kubernetes shapes

def _pod(spec_fragment: str) -> str:
    return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: shapes\nspec:\n" + spec_fragment


@pytest.mark.parametrize("content,line,column,expected", [
    (_pod("  containers:\n    web:\n      image: nginx\n"), 6, 3, "containers should be a list, found a mapping"),
    (_pod("  containers:\n    - name: web\n      image: nginx\n      securityContext: [privileged]\n"),
     9, 7, "securityContext should be a mapping, found a list"),
    (_pod("  containers:\n    - name: web\n      image: [nginx]\n"), 8, 7, "image should be a string, found a list"),
    (_pod("  containers:\n    - web\n"), 7, 7, "containers[0] should be a mapping, found the string 'web'"),
    (_pod("  containers:\n    - name: web\n      securityContext:\n        runAsUser: root\n"),
     9, 9, "runAsUser should be an integer"),
    ("apiVersion: v1\nkind: List\nitems:\n  - " + _pod("  hostPID: true\n").replace("\n", "\n    ") + "\n  - 3\n",
     None, None, "List item 1 is the number 3, not an object"),
    ("apiVersion: v1\nkind: Pod\nspec: {containers: [{name: web, image: nginx}]}\n", 1, 1, "Pod has no metadata"),
])
def test_wrong_shapes_are_diagnosed_where_they_are(scan_with_good, content, line, column, expected):
    result = scan_with_good("shape.yaml", content)
    matching = [d for d in diags(result, "shape.yaml") if expected in d.message]
    assert matching, diags(result, "shape.yaml")
    if line is not None:
        assert (matching[0].line, matching[0].column) == (line, column)
    else:
        assert matching[0].line is not None


def test_security_context_null_is_unset(scan_with_good):
    result = scan_with_good("null.yaml", _pod("  containers:\n    - name: web\n      image: nginx:1.27\n"
                                               "      securityContext: null\n"))
    assert diags(result, "null.yaml") == []
    assert any(f.rule_name == "run-as-root" for f in result.findings if f.path == "null.yaml")


def test_numeric_image_is_read_as_text(scan_with_good):
    result = scan_with_good("num.yaml", _pod("  containers:\n    - name: web\n      image: 42\n"))
    assert [d for d in diags(result, "num.yaml") if d.level == "error"] == []
    pf = _model(_pod("  containers:\n    - name: web\n      image: 42\n"))
    (c,) = pf.of_type("container")
    assert c.image.reference == "42"


def test_unknown_kind_is_ignored_quietly(scan_with_good):
    result = scan_with_good("crd.yaml", "apiVersion: example.com/v1\nkind: Frobnicator\nmetadata: {name: x}\n"
                                        "spec:\n  containers: {not: a list}\n")
    assert diags(result, "crd.yaml") == []


@pytest.mark.parametrize("doc", [
    "apiVersion: v1\nkind: Pod\nmetadata: [a]\n",
    "apiVersion: v1\nkind: Pod\nmetadata: {name: {a: 1}, namespace: [x]}\n",
    "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  volumes: [{name: [a], hostPath: {path: /}}]\n"
    "  containers: [{name: c, volumeMounts: [{name: [a]}]}]\n",
    "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n"
    "  containers: [{name: c, env: [{name: A, value: {x: 1}}]}]\n",
    "apiVersion: v1\nkind: Pod\nmetadata: {name: x, labels: [a, b], annotations: 7}\nspec: 5\n",
    "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata: {? [a, b] : c}\n",
    "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata: {1: 2, null: 3, 2020-01-01: x}\n",
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: x}\nrules: [{verbs: {a: 1}}, 3]\n",
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: x}\nroleRef: 3\n"
    "subjects: [{kind: [1]}, 5]\n",
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\nspec: {podSelector: 5, "
    "policyTypes: egress}\n",
    "apiVersion: v1\nkind: List\nitems: {a: 1}\n",
    "apiVersion: v1\nkind: List\nitems: [{kind: List, items: [{kind: List, items: [1]}]}]\n",
    "apiVersion: 1\nkind: [Pod]\n",
    "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: c, securityContext: "
    "{capabilities: {add: [1, null, [x]], drop: ALL}, seccompProfile: {type: 5}}}]}\n",
])
def test_odd_shapes_never_crash(scan_with_good, doc):
    scan_with_good("odd.yaml", doc)


def test_python_tags_do_not_execute(tmp_path):
    marker = tmp_path / "pwned"
    content = f"""apiVersion: v1
kind: Pod
metadata:
  name: !!python/object/apply:os.system ["touch {marker}"]
  namespace: !!python/name:os.system
spec:
  containers:
    - name: !!python/object/new:os.system ["touch {marker}"]
      image: !!python/object:builtins.dict {{a: 1}}
"""
    pf = _model(content)
    assert not marker.exists()
    assert all(type(v).__module__ == "builtins" or type(v).__module__.startswith("linter")
               for c in pf.of_type("container") for v in (c.name, c.image))


# --------------------------------------------------------------------------- the scan's safety net

def test_a_parser_bug_becomes_a_diagnostic_for_that_file_only(scan_files, monkeypatch):
    from linter.parsers import yamlfile

    real_parse = yamlfile.parse

    def buggy(path, text):
        if path.endswith("bug.yaml"):
            raise ValueError("parser bug")
        return real_parse(path, text)

    monkeypatch.setattr(yamlfile, "parse", buggy)
    result = scan_files({"bug.yaml": GOOD, "good.yaml": GOOD})
    (d,) = diags(result, "bug.yaml")
    assert d.level == "error" and "internal error while parsing (ValueError)" in d.message
    assert privileged_lines(result, "good.yaml") == [GOOD_LINE]


def test_recursion_in_a_parser_becomes_a_diagnostic(monkeypatch):
    from linter.parsers import yamlfile
    from linter.scan import parse_bytes

    def deep(path, text):
        return deep(path, text)

    monkeypatch.setattr(yamlfile, "parse", deep)
    pf = parse_bytes("deep.yaml", "yaml", GOOD.encode())
    (d,) = pf.diagnostics
    assert d.level == "error" and "nested too deeply" in d.message


def test_ctrl_c_in_a_parser_is_not_swallowed(monkeypatch):
    from linter.parsers import yamlfile
    from linter.scan import parse_bytes

    def interrupted(path, text):
        raise KeyboardInterrupt

    monkeypatch.setattr(yamlfile, "parse", interrupted)
    with pytest.raises(KeyboardInterrupt):
        parse_bytes("x.yaml", "yaml", GOOD.encode())


def test_a_check_that_raises_costs_only_its_file(registry, monkeypatch):
    from linter.engine import run as engine_run
    from linter.scan import check_files, parse_bytes

    real = engine_run.run_checks

    def flaky(checks, resources):
        if resources and resources[0].path == "bad.yaml":
            raise TypeError("check bug")
        return real(checks, resources)

    monkeypatch.setattr("linter.scan.run_checks", flaky)
    parsed = [parse_bytes("bad.yaml", "yaml", GOOD.encode()), parse_bytes("good.yaml", "yaml", GOOD.encode())]
    findings = check_files(parsed, [c for c in registry if c.name == "privileged-container"])
    assert [(f.path, f.line) for f in findings] == [("good.yaml", GOOD_LINE)]
    assert "internal error while checking (TypeError)" in parsed[0].diagnostics[0].message
