"""Name/value pairs of a Terraform module that may hold secrets -> :class:`Setting`.

Secret *detection* lives in linter.facts.secrets; this module only decides what a pair's name,
value and context are.  The rules:

* a value written as a literal (also a template whose parts are all literal, or a pure function
  of literals) is the value;
* a value written through any reference (``var.x``, ``local.x``, ``data...``,
  ``aws_secretsmanager_secret_version.db.secret_string``, ``each.value``) is
  ``from_reference=True`` with no value: the literal, if there is one, is reported where it is
  written (a variable default, a local, a tfvars file), exactly once;
* anything else we cannot evaluate is UNKNOWN.

Contexts: ``attribute`` (resource, data, module and locals arguments, nested blocks and maps
included), ``provider`` (provider configuration: hard-coded credentials), ``variable-default``,
``tfvars`` (values in terraform.tfvars / *.auto.tfvars) and ``env`` (container environments,
set by the container mappers).
"""
from __future__ import annotations

import re
from typing import Any

from ..model import UNKNOWN, Location, ParsedFile, Setting
from .tf_ast import Block, Body, Node, Obj, Tup, has_ref
from .tf_expr import ModuleScope, attr_loc

MAX_NESTING = 8
_ENV_ITEM = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*)=(.*)\Z", re.S)
#: attributes whose values are never secrets and are huge (policies are JSON documents of ARNs)
_SKIP = {"depends_on", "count", "for_each", "provider", "providers", "source", "version", "lifecycle",
         "description", "type", "validation"}


def secret_value(scope: ModuleScope, expr: Node) -> tuple[Any, bool]:
    """(value, from_reference) of an expression, as the rules above say."""
    if has_ref(expr):
        return None, True
    v = scope.eval(expr)
    if isinstance(v, str):
        return v, False
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v), False
    return (UNKNOWN if v is UNKNOWN else None), False


def add_setting(pf: ParsedFile, ident: str, loc: Location, name, value, context: str,
                from_reference: bool = False) -> Setting | None:
    if value is None and not from_reference:
        return None
    s = Setting("terraform", pf.path, ident, loc, name, value, context, from_reference)
    pf.add(s)
    return s


def body_settings(pf: ParsedFile, scope: ModuleScope, body: Body, ident: str, context: str,
                  skip: frozenset = frozenset(), depth: int = 0) -> None:
    """Every argument of a block (recursively: nested blocks and object values)."""
    if depth > MAX_NESTING:
        return
    for name, a in body.attrs.items():
        if name in _SKIP or name in skip:
            continue
        expr_settings(pf, scope, a.expr, name, f"{ident}/{name}", attr_loc(pf.path, a), context, depth)
    for b in body.all_blocks():
        if b.type in ("dynamic", "lifecycle", "provisioner", "connection") or b.type in skip:
            continue
        label = "/".join([b.type] + list(b.labels))
        pair = b.body.attrs.get("name"), b.body.attrs.get("value")
        if pair[0] is not None and pair[1] is not None:
            # `set { name = "auth.password" value = "..." }` (helm_release), env-like blocks
            _pair_setting(pf, scope, pair[0].expr, pair[1].expr, f"{ident}/{label}",
                          attr_loc(pf.path, pair[1]), context)
            continue
        body_settings(pf, scope, b.body, f"{ident}/{label}", context, frozenset(), depth + 1)


def _pair_setting(pf, scope, name_expr: Node, value_expr: Node, ident: str, loc: Location, context: str) -> None:
    name = scope.eval(name_expr)
    if not isinstance(name, str):
        return
    value, is_ref = secret_value(scope, value_expr)
    if is_ref and not _secret_name(name):
        return
    add_setting(pf, f"{ident}/{name}", loc, name, value, context, is_ref)


def expr_settings(pf, scope, expr: Node, name: str, ident: str, loc: Location, context: str, depth: int) -> None:
    if isinstance(expr, Obj):
        keys = {it.key: it for it in expr.items if isinstance(it.key, str)}
        if "name" in keys and "value" in keys and len(keys) <= 3:
            v = keys["value"]
            vloc = Location(pf.path, v.line, v.col, v.line,
                            v.value.end_col if v.value.end_line == v.line else v.end_col)
            _pair_setting(pf, scope, keys["name"].value, v.value, ident, vloc, context)
            return
        for it in expr.items:
            if not isinstance(it.key, str):
                continue
            v = it.value
            iloc = Location(pf.path, it.line, it.col, it.line, v.end_col if v.end_line == it.line else it.end_col)
            expr_settings(pf, scope, v, it.key, f"{ident}/{it.key}", iloc, context, depth + 1)
        return
    if isinstance(expr, Tup):
        for i, item in enumerate(expr.items):
            iloc = Location(pf.path, item.line, item.col, item.line, item.end_col if item.end_line == item.line
                            else item.col + 1)
            if isinstance(item, Obj):  # [{name = "X", value = "..."}] carries name/value pairs
                expr_settings(pf, scope, item, name, f"{ident}[{i}]", iloc, context, depth + 1)
                continue
            value, is_ref = secret_value(scope, item)
            m = _ENV_ITEM.match(value) if isinstance(value, str) else None
            if m:  # ["KEY=value", ...]: environment-style lists
                add_setting(pf, f"{ident}/{m.group(1)}", iloc, m.group(1), m.group(2), context)
            elif isinstance(value, str) and _known_token(value):
                # a list under a secret-like name is mostly names of secrets or roles
                # (`secrets = ["api_key"]`): only a recognisable credential counts here
                add_setting(pf, f"{ident}[{i}]", iloc, name, value, context)
        return
    if depth > MAX_NESTING:
        return
    value, is_ref = secret_value(scope, expr)
    if value is None and not is_ref:
        return
    if is_ref and not _secret_name(name):
        return  # a reference under an ordinary name tells nothing: keep the model small
    add_setting(pf, ident, loc, name, value, context, is_ref)


def _known_token(value: str) -> bool:
    from ..facts.secrets import known_token_kind

    return known_token_kind(value) is not None


def _secret_name(name: str) -> bool:
    from ..facts.secrets import name_is_secret_like

    return name_is_secret_like(name)


def variable_settings(pf: ParsedFile, scope: ModuleScope, block: Block) -> None:
    """A variable's literal default (``sensitive = true`` does not make a committed default secret)."""
    a = block.body.attrs.get("default")
    if a is None or not block.labels:
        return
    name = block.labels[0]
    expr_settings(pf, scope, a.expr, name, f"var.{name}", attr_loc(pf.path, a), "variable-default", 0)
