"""The Terraform configuration tree every Terraform mapper reads, whatever the source syntax.

``hcl.py`` builds it from native HCL, :func:`from_json` from ``.tf.json``.  It is deliberately
small: bodies of attributes and blocks, and expressions reduced to what a linter can use --
literals, templates, traversals (``var.x``, ``data.a.b[0].c``), function calls, objects,
tuples, conditionals.  Everything else (``for``, splats, arithmetic) is :class:`Opaque`: its
value is unknown, but the references inside it are kept so that secrets written through a
reference are never mistaken for literals.

All positions are 1-based; ``end_col`` is exclusive.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterator


class Node:
    __slots__ = ("line", "col", "end_line", "end_col")

    def set_pos(self, line: int, col: int, end_line: int, end_col: int) -> "Node":
        self.line, self.col, self.end_line, self.end_col = line, col, end_line, end_col
        return self

    def children(self) -> Iterator["Node"]:
        return iter(())

    @property
    def text(self) -> str:
        return render(self)


class Lit(Node):
    """A literal.  For a string, ``origin`` is (line, column) of its first character in the file
    when known (quoted strings and heredocs), so JSON inside it can be located."""

    __slots__ = ("value", "origin")

    def __init__(self, value: Any, origin: tuple | None = None):
        self.value = value
        self.origin = origin


class Template(Node):
    """A string with interpolations: parts are ``str`` or Nodes.  ``directive`` marks ``%{...}``
    control flow, which we do not evaluate (the whole string is then unknown)."""

    __slots__ = ("parts", "directive", "origin")

    def __init__(self, parts: list, directive: bool = False, origin: tuple | None = None):
        self.parts = parts
        self.directive = directive
        self.origin = origin

    def children(self):
        return (p for p in self.parts if isinstance(p, Node))


class Ref(Node):
    """A traversal: ``parts[0]`` is the root name, then attribute names (str) and indexes
    (int, str, or a Node for a computed index)."""

    __slots__ = ("parts",)

    def __init__(self, parts: tuple):
        self.parts = parts

    def children(self):
        return (p for p in self.parts if isinstance(p, Node))


class Call(Node):
    __slots__ = ("name", "args", "expand")

    def __init__(self, name: str, args: list, expand: bool = False):
        self.name = name
        self.args = args
        self.expand = expand

    def children(self):
        return iter(self.args)


class ObjItem:
    """One ``key = value`` of an object; ``key`` is a str, or a Node for a computed key."""

    __slots__ = ("key", "line", "col", "end_col", "value")

    def __init__(self, key, line: int, col: int, end_col: int, value: Node):
        self.key, self.line, self.col, self.end_col, self.value = key, line, col, end_col, value


class Obj(Node):
    __slots__ = ("items",)

    def __init__(self, items: list):
        self.items = items

    def children(self):
        for it in self.items:
            if isinstance(it.key, Node):
                yield it.key
            yield it.value


class Tup(Node):
    __slots__ = ("items",)

    def __init__(self, items: list):
        self.items = items

    def children(self):
        return iter(self.items)


class Cond(Node):
    __slots__ = ("cond", "then", "other")

    def __init__(self, cond: Node, then: Node, other: Node):
        self.cond, self.then, self.other = cond, then, other

    def children(self):
        return iter((self.cond, self.then, self.other))


class Opaque(Node):
    """An expression we do not evaluate; ``src`` is its source text, ``inner`` the expressions
    found inside it (so references stay visible)."""

    __slots__ = ("src", "inner")

    def __init__(self, src: str, inner: list | None = None):
        self.src = src
        self.inner = inner or []

    def children(self):
        return iter(self.inner)


# -- bodies ------------------------------------------------------------------------------------

class Attr:
    """``name = expr``; (line, col)..key_end_col is the name, end_line/end_col the end of the value."""

    __slots__ = ("name", "expr", "line", "col", "key_end_col", "end_line", "end_col")

    def __init__(self, name: str, expr: Node, line: int, col: int, key_end_col: int, end_line: int, end_col: int):
        self.name, self.expr = name, expr
        self.line, self.col, self.key_end_col, self.end_line, self.end_col = line, col, key_end_col, end_line, end_col


class Block:
    __slots__ = ("type", "labels", "body", "line", "col", "end_line", "type_end_col")

    def __init__(self, type_: str, labels: list, body: "Body", line: int, col: int, end_line: int,
                 type_end_col: int = 0):
        self.type, self.labels, self.body = type_, labels, body
        self.line, self.col, self.end_line = line, col, end_line
        self.type_end_col = type_end_col or col + len(type_)


class Body:
    """Attributes (last one wins, as hcl2 does; ``duplicates`` records the losers) and blocks
    in source order.  A body read from JSON cannot tell a nested block from an object-valued
    attribute without the provider schema, so :meth:`blocks_of` also offers object attributes
    as blocks there."""

    __slots__ = ("attrs", "blocks", "duplicates", "from_json", "line", "col", "end_line")

    def __init__(self, line: int = 1, col: int = 1, end_line: int = 1, from_json: bool = False):
        self.attrs: dict[str, Attr] = {}
        self.blocks: list[Block] = []
        self.duplicates: list[tuple[Attr, Attr]] = []
        self.from_json = from_json
        self.line, self.col, self.end_line = line, col, end_line

    def add_attr(self, a: Attr) -> None:
        prev = self.attrs.get(a.name)
        if prev is not None:
            self.duplicates.append((a, prev))
        self.attrs[a.name] = a

    def blocks_of(self, type_: str) -> list[Block]:
        out = [b for b in self.blocks if b.type == type_]
        if self.from_json and type_ in self.attrs:
            out.extend(_json_attr_blocks(self.attrs[type_]))
        return out

    def block(self, type_: str) -> Block | None:
        bs = self.blocks_of(type_)
        return bs[0] if bs else None

    def dynamic_names(self) -> set:
        return {b.labels[0] for b in self.blocks_of("dynamic") if b.labels}

    def all_blocks(self) -> list[Block]:
        """Nested blocks, including (for JSON) object attributes that may be blocks."""
        if not self.from_json:
            return self.blocks
        out = list(self.blocks)
        for a in self.attrs.values():
            out.extend(_json_attr_blocks(a))
        return out


def _json_attr_blocks(a: Attr) -> list[Block]:
    e = a.expr
    items = [e] if isinstance(e, Obj) else (e.items if isinstance(e, Tup) else [])
    out = []
    for it in items:
        if isinstance(it, Obj):
            out.append(Block(a.name, [], obj_to_body(it), it.line, it.col, it.end_line, a.key_end_col))
    return out


def obj_to_body(o: Obj) -> Body:
    body = Body(o.line, o.col, o.end_line, from_json=True)
    for it in o.items:
        if isinstance(it.key, str) and it.key != "//":
            body.add_attr(Attr(it.key, it.value, it.line, it.col, it.end_col, it.value.end_line, it.value.end_col))
    return body


def walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.children())


def refs_in(node: Node) -> list[Ref]:
    return [n for n in walk(node) if isinstance(n, Ref)]


def has_ref(node: Node) -> bool:
    return any(isinstance(n, Ref) for n in walk(node))


def render(node: Node) -> str:
    """Source-like text of an expression (for messages and idents; not byte-exact)."""
    if isinstance(node, Lit):
        v = node.value
        if isinstance(v, bool):
            return "true" if v else "false"
        if v is None:
            return "null"
        return repr(v) if isinstance(v, str) else str(v)
    if isinstance(node, Ref):
        out = str(node.parts[0])
        for p in node.parts[1:]:
            if isinstance(p, str):
                out += "." + p
            elif isinstance(p, int):
                out += f"[{p}]"
            else:
                out += f"[{render(p)}]"
        return out
    if isinstance(node, Template):
        return "".join(p if isinstance(p, str) else "${" + render(p) + "}" for p in node.parts)
    if isinstance(node, Call):
        return f"{node.name}({', '.join(render(a) for a in node.args)})"
    if isinstance(node, Opaque):
        return node.src
    if isinstance(node, Tup):
        return "[" + ", ".join(render(i) for i in node.items) + "]"
    if isinstance(node, Obj):
        return "{" + ", ".join(f"{k.key if isinstance(k.key, str) else render(k.key)} = {render(k.value)}"
                               for k in node.items) + "}"
    if isinstance(node, Cond):
        return f"{render(node.cond)} ? {render(node.then)} : {render(node.other)}"
    return "?"


# -- templates written as plain text (heredocs, .tf.json strings) --------------------------------

def split_template(text: str) -> list | None:
    """Split ``a${x}b%{if c}d%{endif}`` into literal strings and ('$', expr_text) / ('%', text)
    pieces, honouring the ``$${`` / ``%%{`` escapes.  None when a ``${`` is never closed."""
    if "${" not in text and "%{" not in text:
        return [text]
    out: list = []
    buf: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "$%" and text.startswith(c + "{", i + 1):
            buf.append(c + "{")  # `$${` / `%%{` are the escapes for a literal `${` / `%{`
            i += 3
            continue
        if c in "$%" and text.startswith("{", i + 1):
            end = _closing_brace(text, i + 2)
            if end < 0:
                return None
            if buf:
                out.append("".join(buf))
                buf = []
            out.append((c, text[i + 2:end].strip().strip("~").strip()))
            i = end + 1
            continue
        buf.append(c)
        i += 1
    if buf:
        out.append("".join(buf))
    return out


def _closing_brace(text: str, i: int) -> int:
    depth, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


_SIMPLE_TRAVERSAL = re.compile(r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\.\d+|\[\d+\]|\[\"[^\"\]]*\"\])*\Z")
_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\.(\d+)|\[(\d+)\]|\[\"([^\"\]]*)\"\]")


def parse_simple_traversal(text: str) -> Ref | None:
    """``var.x``, ``local.a.b[0]``, ``data.t.n.attr`` without the HCL parser."""
    text = text.strip()
    if not _SIMPLE_TRAVERSAL.match(text):
        return None
    root = re.match(r"[A-Za-z_][\w-]*", text).group(0)
    parts: list = [root]
    for m in _STEP.finditer(text, len(root)):
        if m.group(1) is not None:
            parts.append(m.group(1))
        elif m.group(2) is not None:
            parts.append(int(m.group(2)))
        elif m.group(3) is not None:
            parts.append(int(m.group(3)))
        else:
            parts.append(m.group(4))
    return Ref(tuple(parts))


def template_from_text(text: str, pos: tuple, parse_expr: Callable[[str], Node] | None = None,
                       origin: tuple | None = None) -> Node:
    """A Lit or Template for a string whose interpolations are still text (heredoc bodies,
    .tf.json strings).  Every node gets ``pos``; ``parse_expr`` parses an interpolation that is
    not a simple traversal (None: it becomes Opaque)."""
    pieces = split_template(text)
    if pieces is None:
        return Opaque(text).set_pos(*pos)
    if len(pieces) == 1 and isinstance(pieces[0], str):
        return Lit(pieces[0], origin).set_pos(*pos)
    parts: list = []
    directive = False
    for p in pieces:
        if isinstance(p, str):
            parts.append(p)
            continue
        kind, src = p
        if kind == "%":
            directive = True
            inner = parse_simple_traversal(src.split(None, 1)[-1]) if src.startswith("if ") else None
            parts.append(Opaque("%{" + src + "}", [inner] if inner else []).set_pos(*pos))
            continue
        node = parse_simple_traversal(src)
        if node is None and parse_expr is not None:
            node = parse_expr(src)
        if node is None:
            node = Opaque(src)
        parts.append(_set_pos_deep(node, pos))
    return Template(parts, directive, origin).set_pos(*pos)


def _set_pos_deep(node: Node, pos: tuple) -> Node:
    for n in walk(node):
        n.set_pos(*pos)
    return node


# -- .tf.json ----------------------------------------------------------------------------------

#: top-level block type -> number of labels in its JSON nesting
JSON_LABELS = {"resource": 2, "data": 2, "module": 1, "variable": 1, "provider": 1, "output": 1,
               "locals": 0, "terraform": 0, "moved": 0, "import": 0, "check": 1, "removed": 0}


def json_value_to_node(value, pos: tuple, parse_expr=None) -> Node:
    """A value from linter.parsers.jsonpos (PosDict/PosList carry positions) as an expression:
    in .tf.json every string is a template."""
    if isinstance(value, dict):
        items = []
        vpos = getattr(value, "pos", {})
        for k, v in value.items():
            kl, kc, kec, vl, vc, vel, vec = vpos.get(k, pos[:2] + (pos[1],) + pos)
            items.append(ObjItem(k, kl, kc, kec, json_value_to_node(v, (vl, vc, vel, vec), parse_expr)))
        return Obj(items).set_pos(getattr(value, "line", pos[0]), getattr(value, "col", pos[1]),
                                  getattr(value, "end_line", pos[2]), pos[3])
    if isinstance(value, list):
        lpos = getattr(value, "pos", [])
        items = [json_value_to_node(v, lpos[i] if i < len(lpos) else pos, parse_expr) for i, v in enumerate(value)]
        return Tup(items).set_pos(*pos)
    if isinstance(value, str):
        return template_from_text(value, pos, parse_expr)
    return Lit(value).set_pos(*pos)


def from_json(doc, parse_expr=None) -> tuple[Body, list[tuple[int, str]]]:
    """Normalize a parsed .tf.json document (a PosDict) into a Body of labelled blocks.
    Returns the body and (line, message) problems with the document's shape."""
    problems: list[tuple[int, str]] = []
    top = Body(1, 1, getattr(doc, "end_line", 1), from_json=True)
    pos = getattr(doc, "pos", {})
    for key, value in doc.items():
        if key == "//":
            continue
        kl, kc, kec = pos[key][:3] if key in pos else (1, 1, 1)
        nlabels = JSON_LABELS.get(key)
        if nlabels is None:
            problems.append((kl, f"unknown top-level key '{key}' ignored"))
            continue
        for labels, val, line in _unnest(value, nlabels, (), kl):
            if not isinstance(val, dict):
                problems.append((line, f"'{key}' {'.'.join(labels)} should be an object; ignored"))
                continue
            node = json_value_to_node(val, (line, kc, line, kec), parse_expr)
            top.blocks.append(Block(key, list(labels), obj_to_body(node), getattr(val, "line", line),
                                    getattr(val, "col", kc), getattr(val, "end_line", line), kec))
    return top, problems


def attrs_from_json(doc, parse_expr=None) -> Body:
    """A ``.tfvars.json`` document: every key is a variable value."""
    node = json_value_to_node(doc, (1, 1, getattr(doc, "end_line", 1), 1), parse_expr)
    return obj_to_body(node)


def _unnest(value, depth: int, labels: tuple, line: int):
    """Walk ``{"label": {"label2": {...}}}`` (each level may also be a list of such objects)."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            ipos = getattr(value, "pos", [])
            yield from _unnest(item, depth, labels, ipos[i][0] if i < len(ipos) else line)
        return
    if depth == 0:
        yield labels, value, line
        return
    if not isinstance(value, dict):
        yield labels, value, line
        return
    pos = getattr(value, "pos", {})
    for k, v in value.items():
        if k == "//":
            continue
        yield from _unnest(v, depth - 1, labels + (k,), pos[k][0] if k in pos else line)
