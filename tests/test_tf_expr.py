"""linter.parsers.tf_expr: what a Terraform expression evaluates to, statically."""
from __future__ import annotations

import textwrap

import pytest

from linter.model import UNKNOWN
from linter.parsers import hcl
from linter.parsers.tf_expr import ModuleScope


def scope_for(files: dict, tfvars: str | None = None) -> ModuleScope:
    s = ModuleScope()
    for path, text in files.items():
        s.declare(hcl.parse(textwrap.dedent(text)), path)
    if tfvars is not None:
        s.set_tfvars(hcl.parse(textwrap.dedent(tfvars)), "terraform.tfvars")
    s.find_cycles()
    s.path = "main.tf"
    return s


def ev(scope: ModuleScope, expr: str):
    return scope.eval(hcl.parse_expression(expr))


@pytest.fixture
def scope():
    return scope_for({
        "variables.tf": """\
            variable "tag" { default = "1.25" }
            variable "registry" { default = "registry.example.com" }
            variable "nodefault" {}
            variable "nulldefault" { default = null }
            variable "labels" { default = { app = "api", tier = "backend" } }
            variable "caps" { default = ["NET_ADMIN", "CHOWN"] }
            variable "enabled" { default = true }
        """,
        "main.tf": """\
            locals {
              image  = "${var.registry}/shop:${var.tag}"
              merged = merge(var.labels, { team = "core" })
              ns     = kubernetes_namespace.shop.metadata[0].name
            }
            resource "kubernetes_namespace" "shop" {
              metadata { name = "shop" }
            }
            resource "kubernetes_namespace" "many" {
              count = 2
              metadata { name = "many-${count.index}" }
            }
        """,
    }, tfvars='tag = "1.27"\n')


@pytest.mark.parametrize("expr,value", [
    ('"plain"', "plain"),
    ("42", 42),
    ("-3", -3),
    ("true", True),
    ("null", None),
    ("var.tag", "1.27"),                        # tfvars win over the default
    ("var.registry", "registry.example.com"),   # then the default
    ('"nginx:${var.tag}"', "nginx:1.27"),
    ("local.image", "registry.example.com/shop:1.27"),
    ("var.labels.tier", "backend"),
    ('var.labels["app"]', "api"),
    ("var.caps[0]", "NET_ADMIN"),
    ('var.enabled ? "on" : "off"', "on"),
    ('upper("abc")', "ABC"),
    ('join(",", var.caps)', "NET_ADMIN,CHOWN"),
    ('lookup(var.labels, "missing", "d")', "d"),
    ('format("%s:%s", "nginx", var.tag)', "nginx:1.27"),
    ('coalesce("", "x")', "x"),
    ('jsonencode({a = 1})', '{"a":1}'),
    ('base64decode("aHVudGVyMg==")', "hunter2"),
    ("local.ns", "shop"),                       # a kubernetes_* resource argument of the module
    ("kubernetes_namespace.shop.metadata.0.name", "shop"),
])
def test_known(scope, expr, value):
    assert ev(scope, expr) == value


@pytest.mark.parametrize("expr", [
    "var.nodefault", "var.nulldefault", "var.missing", "data.aws_ami.x.id", "aws_instance.web.id",
    "module.db.endpoint", "each.value", "count.index", "path.module", '"a-${data.x.y.z}"',
    "file(\"x.json\")", "var.labels.missing", "var.caps[5]", "kubernetes_namespace.many[0].metadata[0].name",
    "kubernetes_namespace.shop.metadata[0].uid", "[for c in var.caps : lower(c)]", "var.x == 1 ? 2 : 3",
    '"%{ if var.enabled }x%{ endif }"', "tostring(var.labels)",
])
def test_unknown(scope, expr):
    assert ev(scope, expr) is UNKNOWN


def test_conditional_with_unknown_condition_but_equal_branches(scope):
    assert ev(scope, 'data.x.y ? "same" : "same"') == "same"


def test_objects_keep_positions_and_reference_marks(scope):
    v = ev(scope, '{\n  a = "x"\n  b = var.tag\n}')
    assert dict(v) == {"a": "x", "b": "1.27"}
    assert v.pos["a"][:3] == (2, 3, 4) and v.pos["b"][0] == 3
    assert v.refs == {"b"}
    lst = ev(scope, '["a", local.image]')
    assert lst.refs == {1} and lst.pos[1][:2] == (1, 11)  # parse_expression parses `x = <expr>`


def test_values_from_another_file_point_at_the_reference(scope):
    # var.labels is written in variables.tf; a finding must not point into it from main.tf
    v = ev(scope, "(\n  var.labels)")
    assert all(p[0] == 2 for p in v.pos.values())
    assert v.refs == {"app", "tier"}  # reached through a reference: never a literal secret here
    merged = ev(scope, "local.merged")
    assert dict(merged) == {"app": "api", "tier": "backend", "team": "core"}


def test_cycles_are_found_and_unknown():
    s = scope_for({"main.tf": """\
        locals {
          a = local.b
          b = "${local.c}-x"
          c = local.a
          d = local.d
          ok = "fine"
        }
    """})
    assert sorted(map(sorted, s.find_cycles())) == [["a", "a", "b", "c"], ["d", "d"]]
    assert ev(s, "local.a") is UNKNOWN and ev(s, "local.d") is UNKNOWN
    assert ev(s, "local.ok") == "fine"


def test_duplicate_declarations_are_reported():
    s = ModuleScope()
    assert s.declare(hcl.parse('variable "x" { default = 1 }\n'), "a.tf") == []
    [(line, message)] = s.declare(hcl.parse('\nvariable "x" { default = 2 }\n'), "b.tf")
    assert line == 2 and "first at a.tf:1" in message
    assert ev(s, "var.x") == 2


def test_deep_nesting_does_not_recurse_forever():
    s = scope_for({"main.tf": "locals {\n" + "\n".join(f"  l{i} = local.l{i + 1}" for i in range(200))
                   + '\n  l200 = "end"\n}\n'})
    assert ev(s, "local.l0") in ("end", UNKNOWN)
