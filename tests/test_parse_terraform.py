"""linter.parsers.terraform.parse_module: module directories, siblings, tfvars, bad input."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from linter.discover import Candidate
from linter.model import UNKNOWN
from linter.parsers.terraform import parse_module


def write(tmp_path, files: dict):
    for name, content in files.items():
        p = tmp_path / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(textwrap.dedent(content))


def cand(path, explicit=False):
    path = str(path)
    kind = "terraform-json" if path.endswith(".tf.json") else "terraform"
    return Candidate(path, kind, os.path.getsize(path), explicit)


def parse_dir(tmp_path, names=None, explicit=False, max_size=10 << 20):
    names = names or sorted(n for n in os.listdir(tmp_path) if n.endswith((".tf", ".tf.json")))
    return {os.path.basename(pf.path): pf for pf in
            parse_module(str(tmp_path), [cand(tmp_path / n, explicit) for n in names], max_size)}


def of(pf, type_name):
    return [r for r in pf.resources if r.type_name == type_name]


def test_one_parsed_file_per_candidate_with_its_own_resources(tmp_path):
    write(tmp_path, {
        "a.tf": 'resource "docker_container" "a" {\n  image = "nginx:1.25"\n}\n',
        "b.tf": 'resource "docker_container" "b" {\n  image = "redis:7"\n}\n',
    })
    out = parse_dir(tmp_path)
    assert set(out) == {"a.tf", "b.tf"}
    assert [c.ident for c in of(out["a.tf"], "container")] == ["docker_container.a"]
    assert [i.reference for i in of(out["b.tf"], "image")] == ["redis:7"]
    assert all(pf.format == "terraform" for pf in out.values())


def test_variables_and_locals_come_from_unnamed_siblings(tmp_path):
    # a pre-commit run names main.tf only; variables.tf and terraform.tfvars are still read
    write(tmp_path, {
        "main.tf": """\
            resource "docker_container" "web" {
              image = "${var.registry}/web:${local.tag}"
              user  = var.user
            }
        """,
        "variables.tf": """\
            variable "registry" { default = "registry.example.com" }
            variable "user" { default = "app" }
            locals { tag = "2.4.1" }
        """,
        "terraform.tfvars": 'user = "root"\n',
    })
    out = parse_dir(tmp_path, ["main.tf"], explicit=True)
    assert list(out) == ["main.tf"]  # siblings are read, never reported on
    ct = of(out["main.tf"], "container")[0]
    assert ct.image.reference == "registry.example.com/web:2.4.1"
    assert ct.user == "root"  # tfvars beats the default
    assert ct.locs["user"].line == 3


def test_auto_tfvars_override_in_lexical_order_and_json_forms(tmp_path):
    write(tmp_path, {
        "main.tf": 'variable "tag" { default = "1" }\nresource "docker_image" "i" { name = "app:${var.tag}" }\n',
        "terraform.tfvars": 'tag = "2"\n',
        "terraform.tfvars.json": '{"tag": "3"}',
        "a.auto.tfvars": 'tag = "4"\n',
        "b.auto.tfvars.json": '{"tag": "5"}',
    })
    assert of(parse_dir(tmp_path)["main.tf"], "image")[0].reference == "app:5"


def test_tfvars_secrets_reported_for_walked_directory_only(tmp_path):
    write(tmp_path, {"main.tf": 'variable "db_password" {}\n', "terraform.tfvars": 'db_password = "hunter2hunter2"\n'})
    walked = parse_dir(tmp_path)
    assert "terraform.tfvars" in walked
    s = of(walked["terraform.tfvars"], "setting")[0]
    assert (s.name, s.value, s.context, s.loc.line) == ("db_password", "hunter2hunter2", "tfvars", 1)
    assert s.plaintext_secret is True
    assert "terraform.tfvars" not in parse_dir(tmp_path, ["main.tf"], explicit=True)


def test_syntax_error_is_a_diagnostic_and_other_files_are_still_checked(tmp_path):
    write(tmp_path, {
        "bad.tf": 'resource "x" "y" {\n  a = \n}\n',
        "good.tf": 'resource "docker_container" "ok" {\n  privileged = true\n}\n',
    })
    out = parse_dir(tmp_path)
    [d] = out["bad.tf"].diagnostics
    assert (d.level, d.line, d.column) == ("error", 2, 7)
    assert d.message.startswith("HCL syntax error: unexpected '}'")
    assert of(out["bad.tf"], "container") == []
    assert of(out["good.tf"], "container")[0].privileged is True


def test_unclosed_block_names_end_of_file(tmp_path):
    write(tmp_path, {"bad.tf": 'resource "x" "y" {\n  a = 1\n'})
    [d] = parse_dir(tmp_path)["bad.tf"].diagnostics
    assert d.line == 3 and "end of file" in d.message and "not closed" in d.message


def test_bom_and_crlf(tmp_path):
    write(tmp_path, {"bom.tf": b'\xef\xbb\xbfresource "aws_db_instance" "db" {\r\n  password = "correcthorse99"\r\n}\r\n'})
    pf = parse_dir(tmp_path)["bom.tf"]
    assert pf.diagnostics == []
    [s] = of(pf, "setting")
    assert (s.name, s.value, s.loc.line, s.loc.column) == ("password", "correcthorse99", 2, 3)


def test_undecodable_and_oversized_files(tmp_path):
    write(tmp_path, {"latin1.tf": b'a = "caf\xe9"\n', "big.tf": "a = 1\n" * 100})
    out = parse_dir(tmp_path, max_size=100)
    assert out["latin1.tf"].diagnostics[0].message.startswith("cannot decode file: not valid UTF-8")
    [d] = out["big.tf"].diagnostics
    assert d.level == "notice" and "--max-file-size" in d.message


def test_tf_json_with_positions(tmp_path):
    write(tmp_path, {"main.tf.json": """\
        {
          "variable": {"img": {"default": "busybox"}},
          "resource": {
            "docker_container": {
              "j": {
                "image": "${var.img}",
                "privileged": true,
                "capabilities": {"add": ["SYS_ADMIN"]}
              }
            },
            "aws_db_instance": {"k": {"password": "jsonsecretvalue1"}}
          }
        }
    """})
    pf = parse_dir(tmp_path)["main.tf.json"]
    assert pf.diagnostics == []
    ct = of(pf, "container")[0]
    assert ct.image.reference == "busybox" and ct.image.loc.line == 6
    assert ct.privileged is True and ct.locs["privileged"].line == 7
    assert ct.capabilities_add == ["SYS_ADMIN"] and ct.locs["capabilities_add"].line == 8
    s = [s for s in of(pf, "setting") if s.name == "password"][0]
    assert s.value == "jsonsecretvalue1" and s.loc.line == 11


@pytest.mark.parametrize("text,message", [
    ("[1, 2]", "must hold a JSON object"),
    ('{"resource": {', "JSON syntax error"),
])
def test_bad_tf_json(tmp_path, text, message):
    write(tmp_path, {"x.tf.json": text})
    [d] = parse_dir(tmp_path)["x.tf.json"].diagnostics
    assert d.level == "error" and message in d.message and d.line == 1


def test_cyclic_locals_are_a_diagnostic_and_unknown(tmp_path):
    write(tmp_path, {"main.tf": """\
        locals {
          a = local.b
          b = "x-${local.a}"
        }
        resource "docker_container" "c" {
          image = local.b
        }
    """})
    pf = parse_dir(tmp_path)["main.tf"]
    [d] = [d for d in pf.diagnostics if "cycle" in d.message]
    assert d.line == 2 and "a -> b -> a" in d.message
    assert of(pf, "image")[0].reference is UNKNOWN


def test_duplicate_attribute_is_a_warning(tmp_path):
    write(tmp_path, {"main.tf": 'resource "docker_container" "c" {\n  privileged = true\n  privileged = false\n}\n'})
    pf = parse_dir(tmp_path)["main.tf"]
    [d] = pf.diagnostics
    assert d.level == "warning" and d.line == 3 and "first at line 2" in d.message
    assert of(pf, "container")[0].privileged is False  # as Terraform would refuse; hcl2 keeps the last


def test_never_raises_on_internal_errors(tmp_path, monkeypatch):
    write(tmp_path, {"main.tf": 'resource "docker_container" "c" {}\n'})
    from linter.parsers import tf_docker

    def boom(*a):
        raise ValueError("kaboom")

    monkeypatch.setitem(tf_docker.HANDLERS, "docker_container", (boom, frozenset()))
    [pf] = parse_module(str(tmp_path), [cand(tmp_path / "main.tf")], 10 << 20)
    assert "internal error while parsing (ValueError)" in pf.diagnostics[0].message
    assert "kaboom" not in pf.diagnostics[0].message  # exception text may quote input: only with IACLINT_DEBUG


def test_module_blocks_are_not_followed_but_their_arguments_are_read(tmp_path):
    write(tmp_path, {"main.tf": """\
        module "db" {
          source   = "./modules/db"
          password = "module-Secret-123"
        }
    """})
    [s] = of(parse_dir(tmp_path)["main.tf"], "setting")
    assert (s.ident, s.value, s.plaintext_secret) == ("module.db/password", "module-Secret-123", True)


def test_suppression_lines_are_kept(tmp_path):
    write(tmp_path, {"main.tf": '# iaclint: ignore[privileged-container]\nresource "docker_container" "c" {}\n'})
    assert parse_dir(tmp_path)["main.tf"].lines[0].startswith("# iaclint")


def test_hcl2_is_imported_only_for_terraform():
    code = textwrap.dedent("""
        import sys, tempfile, os
        from linter.scan import parse_candidates
        from linter.discover import discover
        d = tempfile.mkdtemp()
        open(os.path.join(d, "pod.yaml"), "w").write("apiVersion: v1\\nkind: Pod\\nmetadata: {name: p}\\n")
        parse_candidates(discover([d]).files, 1 << 20)
        assert "hcl2" not in sys.modules and "lark" not in sys.modules, "hcl2 imported for YAML"
        open(os.path.join(d, "main.tf"), "w").write("a = 1\\n")
        parse_candidates(discover([d]).files, 1 << 20)
        assert "hcl2" in sys.modules
    """)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.path.dirname(os.path.dirname(__file__)))


def test_resources_never_created_are_not_mapped_but_their_secrets_are(tmp_path):
    write(tmp_path, {"main.tf": """\
        variable "create" { default = false }
        resource "docker_container" "off" {
          count      = var.create ? 1 : 0
          privileged = true
          env        = ["API_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"]
        }
        resource "docker_container" "none" {
          for_each   = {}
          privileged = true
        }
        resource "docker_container" "maybe" {
          count      = length(data.x.y)
          privileged = true
        }
    """})
    pf = parse_dir(tmp_path)["main.tf"]
    assert [c.ident for c in of(pf, "container")] == ["docker_container.maybe"]
    [s] = [s for s in of(pf, "setting") if s.plaintext_secret]
    assert s.ident.startswith("docker_container.off/env")


def test_deep_nesting_is_a_diagnostic_per_file(tmp_path):
    write(tmp_path, {
        "deep.tf": "a = " + "[" * 3000 + "]" * 3000 + "\n",
        "deepobj.tf": "a = " + "{b = " * 600 + "1" + "}" * 600 + "\n",
        "ok.tf": 'resource "docker_container" "c" {\n  privileged = true\n}\n',
    })
    out = parse_dir(tmp_path)
    for name in ("deep.tf", "deepobj.tf"):
        assert [d.message for d in out[name].diagnostics] == ["input nested too deeply to check"], name
    assert of(out["ok.tf"], "container")[0].privileged is True
