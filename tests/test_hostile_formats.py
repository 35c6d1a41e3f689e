"""Bad Dockerfiles, Compose files and Terraform: a clear diagnostic, and the run goes on.

Each bad file is scanned next to good.yaml (a privileged Pod), whose finding must survive.
Guarded by importorskip: each block runs once its parser is there.
"""
import time

import pytest

from test_hostile_input import GOOD, GOOD_LINE, diags, no_internal_errors, privileged_lines


@pytest.fixture
def scan_with_good(scan_files):
    def run(files: dict):
        result = scan_files({**files, "good.yaml": GOOD})
        assert privileged_lines(result, "good.yaml") == [GOOD_LINE], "the good file was not fully checked"
        no_internal_errors(result)
        return result

    return run


def _errors(result, path):
    return [d for d in diags(result, path) if d.level == "error"]


# --------------------------------------------------------------------------- Dockerfile

@pytest.fixture
def dockerfile_parser():
    return pytest.importorskip("linter.parsers.dockerfile")


def test_dockerfile_without_from(dockerfile_parser, scan_with_good):
    result = scan_with_good({"Dockerfile": "RUN echo hi\nUSER root\n"})
    assert any("no FROM" in d.message for d in _errors(result, "Dockerfile"))


def test_dockerfile_unknown_instruction(dockerfile_parser, scan_with_good):
    result = scan_with_good({"Dockerfile": "FROM alpine:3.20\nFROBNICATE now\nUSER root\n"})
    (d,) = _errors(result, "Dockerfile")
    assert d.line == 2 and "FROBNICATE" in d.message
    # the instructions after it are still read
    assert [f.line for f in result.findings if f.path == "Dockerfile" and f.rule_name == "run-as-root"] == [3]


def test_dockerfile_unterminated_heredoc(dockerfile_parser, scan_with_good):
    result = scan_with_good({"Dockerfile": "FROM alpine:3.20\nRUN <<EOF\necho hi\nUSER 1000\n"})
    (d,) = _errors(result, "Dockerfile")
    assert d.line == 2 and "heredoc" in d.message and "EOF" in d.message


def test_dockerfile_continuation_at_end_of_file(dockerfile_parser, scan_with_good):
    result = scan_with_good({"Dockerfile": "FROM alpine:3.20\nUSER 1000\nUSER root \\\n"})
    (d,) = diags(result, "Dockerfile")
    assert d.line == 3 and "continuation" in d.message
    # the instruction is kept, not dropped (dockerfile-parse drops it)
    assert [f.line for f in result.findings if f.path == "Dockerfile" and f.rule_name == "run-as-root"] == [3]


def test_dockerfile_absurdly_long_line(dockerfile_parser, scan_with_good):
    t0 = time.perf_counter()
    result = scan_with_good({"Dockerfile": "FROM alpine:3.20\nRUN echo " + "x" * 5_000_000 + "\nUSER root\n"})
    assert time.perf_counter() - t0 < 20
    assert [f.line for f in result.findings if f.path == "Dockerfile" and f.rule_name == "run-as-root"] == [3]


def test_dockerfile_many_continuations(dockerfile_parser, scan_with_good):
    result = scan_with_good({"Dockerfile": "FROM alpine:3.20\nRUN true" + " \\\n  && true" * 50_000 + "\nUSER root\n"})
    assert [f.line for f in result.findings if f.path == "Dockerfile" and f.rule_name == "run-as-root"] == [50_003]


# --------------------------------------------------------------------------- Compose

@pytest.fixture
def compose_parser():
    return pytest.importorskip("linter.parsers.compose")


def test_compose_services_as_a_list(compose_parser, scan_with_good):
    result = scan_with_good({"compose.yaml": "services:\n  - web\n  - db\n"})
    (d,) = _errors(result, "compose.yaml")
    assert d.line == 1 and "services" in d.message and "list" in d.message


def test_compose_environment_as_a_string(compose_parser, scan_with_good):
    result = scan_with_good({"compose.yaml": "services:\n  web:\n    image: nginx:1.27\n    environment: FOO=bar\n"
                                             "    privileged: true\n"})
    (d,) = _errors(result, "compose.yaml")
    assert (d.line, d.column) == (4, 5) and "environment" in d.message
    assert privileged_lines(result, "compose.yaml") == [5]  # the rest of the service is checked


def test_compose_interpolation_error(compose_parser, scan_with_good):
    result = scan_with_good({"compose.yaml": "services:\n  web:\n    image: nginx:${TAG\n    privileged: true\n"})
    (d,) = _errors(result, "compose.yaml")
    assert d.line == 3 and "interpolation" in d.message
    assert privileged_lines(result, "compose.yaml") == [4]


def test_compose_port_with_a_list_for_host_ip(compose_parser, scan_with_good):
    # found by scripts/fuzz.py: compose.py _ports puts (host_ip, published) in a set unchecked
    result = scan_with_good({"compose.yaml": "services:\n  web:\n    image: nginx:1.27\n    ports:\n"
                                             "      - target: 443\n        published: \"443\"\n        host_ip: []\n"})
    assert result.findings or diags(result, "compose.yaml")


def test_compose_duplicate_privileged(compose_parser, scan_with_good):
    result = scan_with_good({"compose.yaml": "services:\n  web:\n    image: nginx:1.27\n    privileged: true\n"
                                             "    privileged: false\n"})
    (d,) = diags(result, "compose.yaml")
    assert (d.line, d.level) == (5, "warning") and "line 4" in d.message


# --------------------------------------------------------------------------- Terraform

@pytest.fixture
def terraform_parser():
    return pytest.importorskip("linter.parsers.terraform")


def test_terraform_invalid_hcl(terraform_parser, scan_with_good):
    result = scan_with_good({"tf/main.tf": 'resource "docker_container" "x" {\n  name = "x"\n  image = \n}\n',
                             "tf/other.tf": 'resource "docker_container" "y" {\n  name = "y"\n  image = "nginx:1.27"\n'
                                            '  privileged = true\n}\n'})
    (d,) = _errors(result, "tf/main.tf")
    assert d.line == 3 and "HCL syntax error" in d.message
    assert privileged_lines(result, "tf/other.tf") == [4]  # the module's other file is still checked


def test_terraform_json_not_an_object(terraform_parser, scan_with_good):
    result = scan_with_good({"tf/main.tf.json": "[1, 2, 3]\n"})
    (d,) = _errors(result, "tf/main.tf.json")
    assert "JSON object" in d.message


def test_terraform_json_syntax_error(terraform_parser, scan_with_good):
    result = scan_with_good({"tf/main.tf.json": '{"resource": {\n  "docker_container": [\n}\n'})
    (d,) = _errors(result, "tf/main.tf.json")
    assert d.line is not None


JSONENCODE = '''resource "aws_ecs_task_definition" "t" {
  family                = "t"
  container_definitions = jsonencode(local.defs)
}
resource "aws_ecs_task_definition" "u" {
  family                = "u"
  container_definitions = jsonencode([for c in var.cs : merge(c, { privileged = true })])
}
'''


def test_terraform_jsonencode_we_cannot_evaluate(terraform_parser, scan_with_good):
    # Documented in linter/parsers/tf_ecs.py: an unresolvable definition is unknown -- no
    # container, no error; the run goes on.
    result = scan_with_good({"tf/ecs.tf": JSONENCODE})
    assert _errors(result, "tf/ecs.tf") == []


def test_terraform_cyclic_locals(terraform_parser, scan_with_good):
    t0 = time.perf_counter()
    result = scan_with_good({"tf/main.tf": 'locals {\n  a = local.b\n  b = local.a\n  img = "nginx:${local.a}"\n}\n'
                                           'resource "docker_container" "x" {\n  name = "x"\n  image = local.img\n'
                                           '  privileged = local.a\n}\n'})
    assert time.perf_counter() - t0 < 20
    (d,) = _errors(result, "tf/main.tf")
    assert d.line == 2 and "cycle" in d.message
    assert privileged_lines(result, "tf/main.tf") == []  # unknown, never a finding


def test_terraform_module_source_is_not_followed(terraform_parser, scan_with_good):
    result = scan_with_good({
        "tf/main.tf": 'module "remote" {\n  source   = "git::https://example.com/x.git"\n'
                      '  password = "hunter2-but-longer-Zx81"\n}\nmodule "local" {\n  source = "./local"\n}\n',
        "tf/local/main.tf": 'resource "docker_container" "x" {\n  name = "x"\n  image = "nginx:1.27"\n'
                            '  privileged = true\n}\n',
    })
    assert diags(result, "tf/main.tf") == []
    # the call's own arguments are read...
    assert any(f.rule_name == "plaintext-secret" and f.line == 3 for f in result.findings if f.path == "tf/main.tf")
    # ...and a local module directory under the scan is scanned as a module of its own
    assert privileged_lines(result, "tf/local/main.tf") == [4]


def test_terraform_deeply_nested_expression(terraform_parser, scan_with_good):
    t0 = time.perf_counter()
    result = scan_with_good({"tf/main.tf": "locals {\n  x = " + "[" * 3000 + "]" * 3000 + "\n}\n"})
    assert time.perf_counter() - t0 < 30
    assert all(d.line is not None or "nested" in d.message for d in diags(result, "tf/main.tf"))
