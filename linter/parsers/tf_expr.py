"""Evaluating Terraform expressions as far as a static linter honestly can.

``var.x`` is resolved from ``terraform.tfvars`` / ``*.auto.tfvars`` (and their ``.json`` forms),
then from the variable's ``default``; ``local.x`` from the ``locals`` blocks of every file of the
module directory; templates when every part is known; a few pure functions.  Anything else --
data sources, resource attributes, module outputs, ``count``/``for_each``/``each``, ``for``
expressions, unknown functions -- is :data:`UNKNOWN`, which no check treats as a violation.

One deliberate exception to "resource attributes are unknown": references into the *arguments*
of a ``kubernetes_*`` resource of the same module (``kubernetes_namespace.app.metadata[0].name``)
resolve to what is written there, because namespaces and labels are wired up that way and the
network-policy check needs them.

Objects evaluate to :class:`~linter.parsers.jsonpos.PosDict` and tuples to ``PosList`` carrying
the positions of their keys and items, so mappers can point at the exact key even inside
``jsonencode(...)``.  A container's ``refs`` names the keys/items written through a reference:
such values are never plaintext secrets of *this* place (the literal, if any, is reported where
it is written: a variable default, a local, tfvars).
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ..model import UNKNOWN, Location
from .jsonpos import PosDict, PosList
from .tf_ast import Attr, Block, Body, Call, Cond, Lit, Node, Obj, Ref, Template, Tup, has_ref, refs_in

MAX_DEPTH = 64


class ModuleScope:
    """Everything a module directory declares that expressions can refer to."""

    def __init__(self):
        #: name -> (variable Block, path)
        self.variables: dict[str, tuple[Block, str]] = {}
        #: name -> (expression Node, tfvars path)
        self.tfvars: dict[str, tuple[Node, str]] = {}
        #: name -> (Attr, path)
        self.locals: dict[str, tuple[Attr, str]] = {}
        #: (type, name) -> (resource Block, path), kubernetes_* only (see module docstring)
        self.k8s_resources: dict[tuple[str, str], tuple[Block, str]] = {}
        #: local names that are part of a reference cycle (their value is UNKNOWN)
        self.cyclic: set[str] = set()
        self._local_cache: dict[str, Any] = {}
        self._local_stack: list[str] = []
        self._var_cache: dict[str, Any] = {}
        #: the file whose expressions are being evaluated (positions refer to it)
        self.path = ""
        self._depth = 0

    # -- declarations ----------------------------------------------------------------------------
    def declare(self, body: Body, path: str) -> list[tuple[int, str]]:
        """Record a file's variables, locals and kubernetes resources; returns (line, message)
        problems (duplicate declarations)."""
        problems = []
        for b in body.blocks:
            if b.type == "variable" and b.labels:
                name = b.labels[0]
                if name in self.variables:
                    prev = self.variables[name]
                    problems.append((b.line, f"variable '{name}' is declared twice (first at {prev[1]}:"
                                             f"{prev[0].line}); the last one is used"))
                self.variables[name] = (b, path)
            elif b.type == "locals":
                for a in b.body.attrs.values():
                    if a.name in self.locals:
                        prev = self.locals[a.name]
                        problems.append((a.line, f"local '{a.name}' is defined twice (first at {prev[1]}:"
                                                 f"{prev[0].line}); the last one is used"))
                    self.locals[a.name] = (a, path)
            elif b.type == "resource" and len(b.labels) == 2 and b.labels[0].startswith("kubernetes_"):
                self.k8s_resources[(b.labels[0], b.labels[1])] = (b, path)
        return problems

    def set_tfvars(self, body: Body, path: str) -> None:
        for a in body.attrs.values():
            self.tfvars[a.name] = (a.expr, path)
        self._var_cache.clear()

    def find_cycles(self) -> list[list[str]]:
        """Cycles among locals (Terraform refuses them); their members evaluate to UNKNOWN."""
        deps = {name: {r.parts[1] for r in refs_in(a.expr) if r.parts[0] == "local" and len(r.parts) > 1
                       and isinstance(r.parts[1], str)} for name, (a, _) in self.locals.items()}
        cycles, state = [], {}
        for start in deps:
            if state.get(start):
                continue
            stack = [(start, iter(sorted(deps[start])))]
            path = [start]
            state[start] = 1
            while stack:
                node, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    state[node] = 2
                    stack.pop()
                    path.pop()
                    continue
                if nxt not in deps:
                    continue
                if state.get(nxt) == 1:
                    cycle = path[path.index(nxt):] + [nxt]
                    cycles.append(cycle)
                    self.cyclic.update(cycle)
                elif not state.get(nxt):
                    state[nxt] = 1
                    path.append(nxt)
                    stack.append((nxt, iter(sorted(deps[nxt]))))
        return cycles

    # -- evaluation --------------------------------------------------------------------------------
    def eval(self, node: Node | None) -> Any:
        if node is None:
            return None
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                return UNKNOWN
            return self._eval(node)
        finally:
            self._depth -= 1

    def _eval(self, node: Node) -> Any:
        t = type(node)
        if t is Lit:
            return node.value
        if t is Template:
            if node.directive:
                return UNKNOWN
            out = []
            for p in node.parts:
                if isinstance(p, str):
                    out.append(p)
                    continue
                v = self.eval(p)
                s = _to_template_str(v)
                if s is None:
                    return UNKNOWN
                out.append(s)
            return "".join(out)
        if t is Ref:
            return self._ref(node)
        if t is Obj:
            d = PosDict(line=node.line, col=node.col, end_line=node.end_line, origin=self.path)
            for it in node.items:
                key = it.key if isinstance(it.key, str) else self.eval(it.key)
                if isinstance(key, (int, float)) and not isinstance(key, bool):
                    key = _to_template_str(key)
                if not isinstance(key, str):
                    return UNKNOWN  # a computed key we cannot know: the whole object is unknown
                v = it.value
                d[key] = self.eval(v)
                d.pos[key] = (it.line, it.col, it.end_col, v.line, v.col, v.end_line, v.end_col)
                if has_ref(v):
                    d.refs.add(key)
            return d
        if t is Tup:
            lst = PosList(line=node.line, col=node.col, origin=self.path)
            for i, item in enumerate(node.items):
                lst.append(self.eval(item))
                lst.pos.append((item.line, item.col, item.end_line, item.end_col))
                if has_ref(item):
                    lst.refs.add(i)
            return lst
        if t is Cond:
            c = self.eval(node.cond)
            if c is True or c is False:
                return self.eval(node.then if c else node.other)
            a, b = self.eval(node.then), self.eval(node.other)
            if a is not UNKNOWN and type(a) is type(b) and not isinstance(a, (dict, list)) and a == b:
                return a
            return UNKNOWN
        if t is Call:
            return self._call(node)
        return UNKNOWN

    def _ref(self, node: Ref) -> Any:
        parts = node.parts
        root = parts[0]
        if len(parts) < 2 or not isinstance(parts[1], str):
            return UNKNOWN
        if root == "var":
            value, origin = self.var_value(parts[1])
            rest = parts[2:]
        elif root == "local":
            value, origin = self.local_value(parts[1])
            rest = parts[2:]
        elif isinstance(root, str) and root.startswith("kubernetes_") and len(parts) >= 3:
            return self._k8s_ref(node)
        else:
            return UNKNOWN
        value = self._navigate(value, rest)
        return _as_reference(value, node, origin != self.path)

    def _navigate(self, value, steps) -> Any:
        for step in steps:
            if value is UNKNOWN or value is None:
                return UNKNOWN
            if isinstance(step, Node):
                step = self.eval(step)
                if step is UNKNOWN:
                    return UNKNOWN
            if isinstance(value, dict):
                if not isinstance(step, str) or step not in value:
                    return UNKNOWN
                value = value[step]
            elif isinstance(value, list):
                if isinstance(step, bool) or not isinstance(step, int) or not -len(value) <= step < len(value):
                    return UNKNOWN
                value = value[step]
            else:
                return UNKNOWN
        return value

    def var_value(self, name: str) -> tuple[Any, str]:
        if name in self._var_cache:
            return self._var_cache[name]
        result: tuple[Any, str] = (UNKNOWN, "")
        if name in self.tfvars:
            expr, path = self.tfvars[name]
            result = (self._eval_in(expr, path), path)
        elif name in self.variables:
            block, path = self.variables[name]
            default = block.body.attrs.get("default")
            if default is not None:
                v = self._eval_in(default.expr, path)
                # `default = null` means "no default": the value comes from outside the module
                result = (UNKNOWN if v is None else v, path)
        self._var_cache[name] = result
        return result

    def local_value(self, name: str) -> tuple[Any, str]:
        if name not in self.locals or name in self.cyclic or name in self._local_stack:
            return UNKNOWN, ""
        attr, path = self.locals[name]
        if name not in self._local_cache:
            self._local_stack.append(name)
            try:
                self._local_cache[name] = self._eval_in(attr.expr, path)
            finally:
                self._local_stack.pop()
        return self._local_cache[name], path

    def _eval_in(self, node: Node, path: str) -> Any:
        saved, self.path = self.path, path
        try:
            return self.eval(node)
        finally:
            self.path = saved

    def _k8s_ref(self, node: Ref) -> Any:
        parts = node.parts
        found = self.k8s_resources.get((parts[0], parts[1])) if isinstance(parts[1], str) else None
        if found is None:
            return UNKNOWN
        block, path = found
        if "count" in block.body.attrs or "for_each" in block.body.attrs:
            return UNKNOWN
        body: Body | None = block.body
        steps = list(parts[2:])
        while steps:
            step = steps.pop(0)
            if not isinstance(step, str) or body is None:
                return UNKNOWN
            if step in body.attrs:
                value = self._eval_in(body.attrs[step].expr, path)
                return _as_reference(self._navigate(value, steps), node, path != self.path)
            blocks = body.blocks_of(step)
            if not blocks:
                return UNKNOWN
            idx = steps.pop(0) if steps and isinstance(steps[0], int) else 0
            if not 0 <= idx < len(blocks):
                return UNKNOWN
            body = blocks[idx].body
        return UNKNOWN

    # -- functions ---------------------------------------------------------------------------------
    def _call(self, node: Call) -> Any:
        fn = _FUNCTIONS.get(node.name)
        if fn is None or node.expand:
            return UNKNOWN
        args = [self.eval(a) for a in node.args]
        if any(a is UNKNOWN for a in args):
            return UNKNOWN
        try:
            out = fn(*args)
        except (TypeError, ValueError, KeyError, IndexError, binascii.Error, UnicodeDecodeError, RecursionError):
            return UNKNOWN
        if isinstance(out, (dict, list)) and _contains_unknown(out):
            return UNKNOWN
        return out


def _to_template_str(v) -> str | None:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return None


def _as_reference(value, node: Node, relocate: bool):
    """A value reached through a reference: every key and item counts as a reference; its
    positions move to the reference when they belong to another file."""
    if isinstance(value, dict):
        d = PosDict(line=node.line if relocate else getattr(value, "line", node.line),
                    col=node.col if relocate else getattr(value, "col", node.col),
                    end_line=node.end_line if relocate else getattr(value, "end_line", node.end_line))
        here = (node.line, node.col, node.end_col, node.line, node.col, node.end_line, node.end_col)
        pos = getattr(value, "pos", {})
        for k, v in value.items():
            d[k] = _as_reference(v, node, relocate)
            d.pos[k] = here if relocate or k not in pos else pos[k]
        d.refs = set(d)
        return d
    if isinstance(value, list):
        lst = PosList(line=node.line, col=node.col)
        pos = getattr(value, "pos", [])
        for i, v in enumerate(value):
            lst.append(_as_reference(v, node, relocate))
            lst.pos.append((node.line, node.col, node.end_line, node.end_col) if relocate or i >= len(pos) else pos[i])
        lst.refs = set(range(len(lst)))
        return lst
    return value


def _contains_unknown(v) -> bool:
    if v is UNKNOWN:
        return True
    if isinstance(v, dict):
        return any(_contains_unknown(x) for x in v.values())
    if isinstance(v, list):
        return any(_contains_unknown(x) for x in v)
    return False


def plain(v):
    """PosDict/PosList -> plain dicts and lists (for jsonencode and comparisons)."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def _merge(*maps):
    out = PosDict()
    for m in maps:
        if m is None:
            continue
        if not isinstance(m, dict):
            raise TypeError("merge of a non-object")
        pos = getattr(m, "pos", {})
        refs = getattr(m, "refs", set())
        for k, v in m.items():
            out[k] = v
            if k in pos:
                out.pos[k] = pos[k]
            if k in refs:
                out.refs.add(k)
    return out


def _concat(*lists):
    out = PosList()
    for lst in lists:
        if not isinstance(lst, list):
            raise TypeError("concat of a non-list")
        pos = getattr(lst, "pos", [])
        refs = getattr(lst, "refs", set())
        for i, v in enumerate(lst):
            if i in refs:
                out.refs.add(len(out))
            out.append(v)
            if i < len(pos):
                out.pos.append(pos[i])
    return out


def _lookup(m, key, *default):
    if not isinstance(m, dict):
        raise TypeError("lookup in a non-object")
    if key in m:
        return m[key]
    if default:
        return default[0]
    raise KeyError(key)


def _coalesce(*args):
    for a in args:
        if a is not None and a != "":
            return a
    raise ValueError("no non-null argument")


def _format(fmt, *args):
    if not isinstance(fmt, str):
        raise TypeError("format string")
    out, i, k = [], 0, 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        verb = fmt[i + 1:i + 2]
        if verb == "%":
            out.append("%")
        elif verb in ("s", "d", "v") and k < len(args):
            s = _to_template_str(args[k])
            if s is None:
                raise TypeError("format argument")
            out.append(s)
            k += 1
        else:
            raise ValueError("unsupported format verb")
        i += 2
    return "".join(out)


def _tobool(v):
    if isinstance(v, bool) or v is None:
        return v
    if v in ("true", "false"):
        return v == "true"
    raise ValueError("not a bool")


def _tonumber(v):
    if isinstance(v, bool):
        raise ValueError("not a number")
    if isinstance(v, (int, float)) or v is None:
        return v
    s = str(v)
    return int(s) if s.lstrip("-").isdigit() else float(s)


def _tostring(v):
    if v is None:
        return None
    s = _to_template_str(v)
    if s is None:
        raise TypeError("not a primitive")
    return s


def _str_fn(f):
    def run(v):
        if not isinstance(v, str):
            raise TypeError("not a string")
        return f(v)
    return run


_FUNCTIONS = {
    "tostring": _tostring,
    "tonumber": _tonumber,
    "tobool": _tobool,
    "lower": _str_fn(str.lower),
    "upper": _str_fn(str.upper),
    "trimspace": _str_fn(str.strip),
    "join": lambda sep, lst: sep.join(_tostring(x) for x in lst) if isinstance(lst, list) else _fail(),
    "concat": _concat,
    "merge": _merge,
    "lookup": _lookup,
    "coalesce": _coalesce,
    "format": _format,
    "jsonencode": lambda v: json.dumps(plain(v), separators=(",", ":")),
    "base64encode": _str_fn(lambda s: base64.b64encode(s.encode()).decode()),
    "base64decode": _str_fn(lambda s: base64.b64decode(s, validate=True).decode("utf-8")),
}


def _fail():
    raise TypeError("bad argument")


# -- reading blocks with locations ---------------------------------------------------------------

class Reader:
    """A block body read through a scope: values, their locations, what is dynamic."""

    __slots__ = ("scope", "body", "path", "line")

    def __init__(self, scope: ModuleScope, body: Body, path: str, line: int | None = None):
        self.scope, self.body, self.path = scope, body, path
        self.line = line if line is not None else body.line

    def has(self, name: str) -> bool:
        return name in self.body.attrs

    def get(self, name: str, default=None) -> Any:
        a = self.body.attrs.get(name)
        if a is None:
            return UNKNOWN if name in self.body.dynamic_names() else default
        return self.scope.eval(a.expr)

    def loc(self, name: str) -> Location | None:
        a = self.body.attrs.get(name)
        if a is None:
            b = self.body.block(name)
            return Location(self.path, b.line, b.col, b.line, b.type_end_col) if b else None
        return attr_loc(self.path, a)

    def here(self) -> Location:
        return Location(self.path, self.line, self.body.col if self.line == self.body.line else 1)

    def blocks(self, name: str) -> list["Reader"]:
        return [Reader(self.scope, b.body, self.path, b.line) for b in self.body.blocks_of(name)]

    def block(self, name: str) -> "Reader | None":
        bs = self.blocks(name)
        return bs[0] if bs else None

    def dynamic(self, name: str) -> bool:
        return name in self.body.dynamic_names()


def attr_loc(path: str, a: Attr) -> Location:
    """The attribute's name, spanning to the end of its value when that is on the same line."""
    if a.end_line == a.line and a.end_col > a.col:
        return Location(path, a.line, a.col, a.line, a.end_col)
    return Location(path, a.line, a.col, a.line, a.key_end_col)
