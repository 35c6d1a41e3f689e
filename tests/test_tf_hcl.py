"""linter.parsers.hcl: python-hcl2's typed tree and its private ``_meta`` positions.

These tests pin what we rely on in python-hcl2 8.x (pyproject: ``>=8.1.4,<9``): if an upgrade
moves a position or renames a rule class, they fail here rather than as wrong finding lines."""
from __future__ import annotations

import textwrap

import pytest

from linter.parsers import hcl
from linter.parsers.tf_ast import Call, Cond, Lit, Obj, Opaque, Ref, Template, Tup, has_ref, render

SRC = textwrap.dedent('''\
    resource "kubernetes_deployment" "api" {
      metadata {
        name = "api"
      }
      count = var.n > 1 ? 2 : data.x.y[0].z
      spec { replicas = 3 }
    }
    x = {
      "a.b"   = 1
      c       = [true, null, -3, 1.5e3]
      (var.k) = "v"
    }
    image   = "nginx:${var.tag}"
    esc     = "a\\"b\\n$${literal}"
    ref     = kubernetes_namespace.x.metadata.0.name
    idx     = var.m["key"]
    fn      = jsonencode([{ name = "web", privileged = true }])
    pfn     = provider::aws::arn_parse("x")
    forexp  = [for k, v in var.m : v.id]
    splat   = foo[*].id
    tmpl    = "%{ if var.x }yes%{ endif }"
    heredoc = <<-EOT
      {"a": ${var.b}}
    EOT
    ''')


@pytest.fixture(scope="module")
def body():
    return hcl.parse(SRC)


def test_block_positions(body):
    [res] = body.blocks
    assert (res.type, res.labels, res.line, res.col, res.end_line) == ("resource", ["kubernetes_deployment", "api"],
                                                                       1, 1, 7)
    meta = res.body.block("metadata")
    assert (meta.line, meta.col, meta.end_line, meta.type_end_col) == (2, 3, 4, 11)
    name = meta.body.attrs["name"]
    assert (name.line, name.col, name.key_end_col, name.end_line, name.end_col) == (3, 5, 9, 3, 17)
    # a one-line block keeps its attribute's position
    assert res.body.block("spec").body.attrs["replicas"].col == 10


def test_attribute_values_and_positions(body):
    a = body.attrs
    obj = a["x"].expr
    assert isinstance(obj, Obj)
    keys = [it.key for it in obj.items]
    assert keys[:2] == ["a.b", "c"] and isinstance(keys[2], Ref)
    assert [(it.line, it.col) for it in obj.items] == [(9, 3), (10, 3), (11, 3)]
    tup = obj.items[1].value
    assert isinstance(tup, Tup) and [i.value for i in tup.items] == [True, None, -3, 1500.0]
    assert (tup.line, tup.col, tup.end_col) == (10, 13, 36)


def test_templates_and_escapes(body):
    t = body.attrs["image"].expr
    assert isinstance(t, Template) and t.parts[0] == "nginx:" and render(t.parts[1]) == "var.tag"
    esc = body.attrs["esc"].expr
    assert isinstance(esc, Lit) and esc.value == 'a"b\n${literal}'
    assert body.attrs["tmpl"].expr.directive is True


def test_references(body):
    assert body.attrs["ref"].expr.parts == ("kubernetes_namespace", "x", "metadata", 0, "name")
    assert body.attrs["idx"].expr.parts == ("var", "m", "key")
    cond = body.blocks[0].body.attrs["count"].expr
    assert isinstance(cond, Cond) and isinstance(cond.cond, Opaque) and has_ref(cond.cond)
    assert cond.other.parts == ("data", "x", "y", 0, "z")


def test_function_calls_keep_their_arguments_as_data(body):
    fn = body.attrs["fn"].expr
    assert isinstance(fn, Call) and fn.name == "jsonencode"
    [tup] = fn.args
    [o] = tup.items
    assert [(it.key, it.line, it.col) for it in o.items] == [("name", 17, 25), ("privileged", 17, 39)]
    assert body.attrs["pfn"].expr.name == "provider::aws::arn_parse"


def test_unevaluated_expressions_keep_their_references(body):
    for name in ("forexp", "splat"):
        e = body.attrs[name].expr
        assert isinstance(e, Opaque) and has_ref(e), name
    assert body.attrs["forexp"].expr.src == "[for k, v in var.m : v.id]"


def test_heredoc_body_and_origin(body):
    h = body.attrs["heredoc"].expr
    assert isinstance(h, Template)
    assert h.parts[0] == '{"a": ' and render(h.parts[1]) == "var.b" and h.parts[2] == "}\n"
    assert h.origin == (23, 3)  # body starts on the next line, after the two stripped spaces


@pytest.mark.parametrize("src,line,col,fragment", [
    ('a = \n', 1, 5, "unexpected end of line"),
    ('resource "x" {\n  b = [1,\n}\n', 3, 1, "unexpected '}'"),
    ('a = "unterminated\n', 1, 6, "string is not closed"),
    ("a = 1 ~ 2\n", 1, 7, "unexpected '~'"),
    ('x {\n', 2, 1, "end of file"),
])
def test_syntax_errors_carry_the_parser_position(src, line, col, fragment):
    with pytest.raises(hcl.HclError) as e:
        hcl.parse(src)
    assert (e.value.line, e.value.column) == (line, col)
    assert fragment in e.value.message


def test_parse_expression():
    e = hcl.parse_expression('lookup(var.m, "k", "d")')
    assert isinstance(e, Call) and e.name == "lookup"
    assert hcl.parse_expression("(((") is None
