"""Native HCL -> :mod:`linter.parsers.tf_ast`, with line and column for every node.

python-hcl2 8.x's dict output has no positions (``with_meta`` is a no-op upstream, issue #291),
so we walk its typed tree (``hcl2.parses``) instead and read each rule's Lark ``_meta``.  That is
private API: this module is the only place that touches it or any ``hcl2.rules`` class, and
tests/test_tf_hcl.py pins the behaviour we rely on (pyproject pins ``python-hcl2>=8.1.4,<9``).

hcl2 (and lark, ~95 ms) is imported on first use, so scans without Terraform never pay for it.
"""
from __future__ import annotations

from .tf_ast import (Attr, Block, Body, Call, Cond, Lit, Node, Obj, ObjItem, Opaque, Ref, Template, Tup,
                     template_from_text)


class HclError(Exception):
    def __init__(self, message: str, line: int | None, column: int | None = None):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def parse(text: str) -> Body:
    """Parse a .tf / .tfvars file.  Raises HclError (with the parser's line) on invalid input."""
    import hcl2
    from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedToken, VisitError

    try:
        tree = hcl2.parses(text, discard_comments=True)
    except UnexpectedToken as exc:
        if exc.token.type == "$END":
            raise HclError("HCL syntax error: unexpected end of file (a block, bracket or string is not closed)",
                           exc.line, exc.column) from None
        raise HclError(f"HCL syntax error: unexpected {_token_text(exc.token)}{_expected(exc.expected)}",
                       exc.line, exc.column) from None
    except UnexpectedCharacters as exc:
        raise HclError(f"HCL syntax error: unexpected character {exc.char!r}", exc.line, exc.column) from None
    except UnexpectedEOF:
        raise HclError("HCL syntax error: unexpected end of file", text.count("\n") + 1) from None
    except VisitError as exc:
        if isinstance(exc.orig_exc, RecursionError):
            raise RecursionError from None
        raise HclError(f"HCL could not be read: {exc.orig_exc}", _meta_line(exc.obj)) from None
    except LarkError as exc:
        raise HclError(f"HCL syntax error: {str(exc).splitlines()[0]}", getattr(exc, "line", None)) from None
    return _Converter(text).body(tree.body)


def parse_expression(text: str) -> Node | None:
    """Parse one expression (an interpolation found in a heredoc or a .tf.json string)."""
    try:
        body = parse(f"x = {text}\n")
    except (HclError, RecursionError):
        return None
    a = body.attrs.get("x")
    return a.expr if a is not None else None


_PUNCT = {"LBRACE": "'{'", "RBRACE": "'}'", "LSQB": "'['", "RSQB": "']'", "LPAR": "'('", "RPAR": "')'",
          "EQ": "'='", "COLON": "':'", "COMMA": "','", "DBLQUOTE": "'\"'", "NL_OR_COMMENT": "a new line",
          "QMARK": "'?'", "DOT": "'.'"}
_EXPRESSION_START = {"DBLQUOTE", "INT_LITERAL", "NAME", "LBRACE", "LSQB", "HEREDOC_TEMPLATE"}


def _token_text(tok) -> str:
    if tok.type == "$END":
        return "end of file"
    text = str(tok)
    if not text.strip():
        return "end of line" if "\n" in text else "whitespace"
    first = text.strip().splitlines()[0]
    return repr(first[:40])


def _expected(expected) -> str:
    names = {e for e in expected if not e.startswith("__")}
    if len(names & _EXPRESSION_START) >= 3:
        return "; expected an expression"
    words = sorted(_PUNCT[n] for n in names if n in _PUNCT)
    return f"; expected {' or '.join(words)}" if words and len(words) == len(names) else ""


def _meta_line(obj) -> int | None:
    meta = getattr(obj, "meta", None) or getattr(obj, "_meta", None)
    return getattr(meta, "line", None)


_T: dict = {}


def _types() -> dict:
    """hcl2 rule classes by the name we dispatch on (resolved once, on first use)."""
    if not _T:
        from hcl2.rules import base, containers, expressions, functions, indexing, literal_rules, strings

        for mod in (base, containers, expressions, functions, indexing, literal_rules, strings):
            for name in dir(mod):
                obj = getattr(mod, name)
                if isinstance(obj, type) and name.endswith("Rule"):
                    _T[name] = obj
    return _T


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def _unescape(s: str) -> str:
    if "\\" not in s:
        return s
    out, i, n = [], 0, len(s)
    while i < n:
        c = s[i]
        if c == "\\" and i + 1 < n:
            m = s[i + 1]
            if m in _ESCAPES:
                out.append(_ESCAPES[m])
                i += 2
                continue
            width = {"u": 4, "U": 8}.get(m)
            digits = s[i + 2:i + 2 + width] if width else ""
            if width and len(digits) == width and all(d in "0123456789abcdefABCDEF" for d in digits):
                cp = int(digits, 16)
                if cp <= 0x10FFFF and not 0xD800 <= cp < 0xE000:
                    out.append(chr(cp))
                    i += 2 + width
                    continue
        out.append(c)
        i += 1
    return "".join(out)


class _Converter:
    def __init__(self, text: str):
        self.text = text
        t = _types()
        self.dispatch = {
            t["ExprTermRule"]: self._expr_term,
            t["StringRule"]: self._string,
            t["HeredocTemplateRule"]: self._heredoc,
            t["HeredocTrimTemplateRule"]: self._heredoc,
            t["IntLitRule"]: self._int,
            t["FloatLitRule"]: self._float,
            t["LiteralValueRule"]: self._literal,
            t["IdentifierRule"]: self._ident,
            t["GetAttrExprTermRule"]: self._get_attr,
            t["IndexExprTermRule"]: self._index,
            t["FunctionCallRule"]: self._call,
            t["TupleRule"]: self._tuple,
            t["ObjectRule"]: self._object,
            t["ConditionalRule"]: self._conditional,
            t["UnaryOpRule"]: self._unary,
        }
        self.T = t

    # -- positions -----------------------------------------------------------------------------
    @staticmethod
    def pos(rule, fallback=(1, 1, 1, 1)) -> tuple:
        m = rule._meta
        line = getattr(m, "line", None)
        if line is None:
            return fallback
        return line, m.column, m.end_line, m.end_column

    def src(self, rule) -> str:
        m = rule._meta
        start = getattr(m, "start_pos", None)
        return self.text[start:m.end_pos] if start is not None else ""

    # -- bodies --------------------------------------------------------------------------------
    def body(self, rule) -> Body:
        line, col, end_line, _ = self.pos(rule)
        out = Body(line, col, end_line)
        AttributeRule, BlockRule = self.T["AttributeRule"], self.T["BlockRule"]
        for child in rule.children:
            if isinstance(child, AttributeRule):
                ident = child.identifier
                kl, kc, _, kec = self.pos(ident)
                expr = self.expr(child.expression)
                _, _, el, ec = self.pos(child)
                out.add_attr(Attr(str(ident.token.value), expr, kl, kc, kec, el, ec))
            elif isinstance(child, BlockRule):
                labels = child.labels
                type_rule = labels[0]
                names = [self._label(lab) for lab in labels]
                bl, bc, bel, _ = self.pos(child)
                out.blocks.append(Block(names[0], names[1:], self.body(child.body), bl, bc, bel,
                                        self.pos(type_rule)[3]))
        return out

    def _label(self, rule) -> str:
        if isinstance(rule, self.T["StringRule"]):
            node = self._string(rule)
            return node.value if isinstance(node, Lit) else self.src(rule).strip('"')
        return str(rule.token.value)

    # -- expressions ---------------------------------------------------------------------------
    def expr(self, rule) -> Node:
        fn = self.dispatch.get(type(rule))
        if fn is not None:
            return fn(rule)
        return self._opaque(rule)

    def _opaque(self, rule) -> Node:
        inner: list = []
        stack = list(getattr(rule, "children", None) or ())
        while stack:
            c = stack.pop()
            if c is None:
                continue
            if type(c) in self.dispatch:
                inner.append(self.expr(c))
            else:
                stack.extend(getattr(c, "children", None) or ())
        return Opaque(self.src(rule), inner).set_pos(*self.pos(rule))

    def _expr_term(self, rule) -> Node:
        inner = rule.expression
        return self.expr(inner) if inner is not None else self._opaque(rule)

    def _int(self, rule) -> Node:
        return Lit(int(str(rule.token.value))).set_pos(*self.pos(rule))

    def _float(self, rule) -> Node:
        return Lit(float(str(rule.token.value))).set_pos(*self.pos(rule))

    def _literal(self, rule) -> Node:
        v = str(rule.token.value)
        value = {"true": True, "false": False, "null": None}.get(v, v)
        return Lit(value).set_pos(*self.pos(rule))

    def _ident(self, rule) -> Node:
        return Ref((str(rule.token.value),)).set_pos(*self.pos(rule))

    def _get_attr(self, rule) -> Node:
        base = self.expr(rule.expr_term)
        name = str(rule.get_attr.identifier.token.value)
        if isinstance(base, Ref):
            return Ref(base.parts + (name,)).set_pos(*self.pos(rule))
        return Opaque(self.src(rule), [base]).set_pos(*self.pos(rule))

    def _index(self, rule) -> Node:
        base_rule, idx_rule = rule.children[0], rule.children[1]
        base = self.expr(base_rule)
        if isinstance(idx_rule, self.T["ShortIndexRule"]):
            idx = int(str(idx_rule.index.value))
        else:
            node = self.expr(idx_rule.index_expression)
            idx = node.value if isinstance(node, Lit) and isinstance(node.value, (int, str)) else node
        if isinstance(base, Ref):
            return Ref(base.parts + (idx,)).set_pos(*self.pos(rule))
        inner = [base] + ([idx] if isinstance(idx, Node) else [])
        return Opaque(self.src(rule), inner).set_pos(*self.pos(rule))

    def _call(self, rule) -> Node:
        name = "::".join(str(i.token.value) for i in rule.identifiers)
        args_rule = rule.arguments
        args = [self.expr(a) for a in args_rule.arguments] if args_rule is not None else []
        expand = bool(args_rule is not None and args_rule.has_ellipsis)
        return Call(name, args, expand).set_pos(*self.pos(rule))

    def _tuple(self, rule) -> Node:
        return Tup([self.expr(e) for e in rule.elements]).set_pos(*self.pos(rule))

    def _object(self, rule) -> Node:
        items = []
        KeyRule = self.T["ObjectElemKeyRule"]
        for elem in rule.elements:
            k = elem.key
            kl, kc, _, kec = self.pos(k)
            if isinstance(k, KeyRule):
                v = k.value
                if isinstance(v, self.T["StringRule"]):
                    node = self._string(v)
                    key = node.value if isinstance(node, Lit) else node
                else:
                    key = str(v.token.value)
            else:
                key = self.expr(k.expression)
            items.append(ObjItem(key, kl, kc, kec, self.expr(elem.expression)))
        return Obj(items).set_pos(*self.pos(rule))

    def _conditional(self, rule) -> Node:
        return Cond(self.expr(rule.condition), self.expr(rule.if_true),
                    self.expr(rule.if_false)).set_pos(*self.pos(rule))

    def _unary(self, rule) -> Node:
        operand = self.expr(rule.expr_term)
        if rule.operator.strip() == "-" and isinstance(operand, Lit) and type(operand.value) in (int, float):
            return Lit(-operand.value).set_pos(*self.pos(rule))
        return Opaque(self.src(rule), [operand]).set_pos(*self.pos(rule))

    def _string(self, rule) -> Node:
        parts: list = []
        directive = False
        Interp, StringPart = self.T["InterpolationRule"], self.T["StringPartRule"]
        for part in rule.string_parts:
            content = part.content if isinstance(part, StringPart) else part
            if isinstance(content, Interp):
                parts.append(self.expr(content.expression))
                continue
            name = content.lark_name() if hasattr(content, "lark_name") else ""
            if name == "STRING_CHARS":
                parts.append(_unescape(str(content.value)))
            elif name in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
                parts.append(str(content.value)[1:])  # `$${x}` is the literal text `${x}`
            else:  # %{if}/%{for} template directives
                directive = True
                parts.append(self._opaque(content))
        pos = self.pos(rule)
        return _template(parts, directive, pos, (pos[0], pos[1] + 1))

    def _heredoc(self, rule) -> Node:
        pos = self.pos(rule)
        lines = str(rule.heredoc.value).split("\n")
        marker = lines[0].lstrip("<-").strip()
        end = len(lines) - 1
        while end > 0 and lines[end].strip() != marker:
            end -= 1
        body_lines = lines[1:end] if end > 0 else lines[1:]
        indent = 0
        if lines[0].startswith("<<-"):
            # hcl2's own trimmed-heredoc value keeps JSON-style escapes when unquoted; trim here
            indent = min((len(ln) - len(ln.lstrip(" ")) for ln in body_lines if ln.strip()), default=0)
            body_lines = [ln[indent:] for ln in body_lines]
        body = "\n".join(body_lines) + ("\n" if body_lines else "")
        # the body starts on the line after `<<EOF`, at column 1 (+ what `<<-` stripped)
        return template_from_text(body, pos, parse_expression, origin=(pos[0] + 1, 1 + indent))


def _template(parts: list, directive: bool, pos: tuple, origin: tuple) -> Node:
    merged: list = []
    for p in parts:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        else:
            merged.append(p)
    if not merged:
        return Lit("").set_pos(*pos)
    if len(merged) == 1 and isinstance(merged[0], str):
        return Lit(merged[0], origin).set_pos(*pos)
    return Template(merged, directive, origin).set_pos(*pos)
