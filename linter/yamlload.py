"""YAML loading with source positions, on libyaml's C parser.

Positions are recorded by our own constructors while PyYAML builds the Python objects (cheaper
than composing a node graph and walking it afterwards: ~1.2x plain CSafeLoader).  Every mapping
is a :class:`PosDict` whose ``pos[key]`` holds the key's and the value's marks; every sequence
is a :class:`PosList` whose ``pos[i]`` holds the item's mark.  All positions are 1-based, columns
count Unicode code points (what libyaml counts).

Hardening: duplicate keys are recorded (the last wins, as in Kubernetes and Compose) rather than
silently dropped; alias expansion is capped (billion-laughs); unknown tags (Compose ``!reset``,
CloudFormation ``!Ref``) load as their plain value instead of failing the file.
"""
from __future__ import annotations

import re

import yaml
from yaml.constructor import ConstructorError

try:
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader



class PosDict(dict):
    """dict with ``pos[key] = (key_line, key_col, key_end_col, value_line, value_col, value_end_line, value_end_col)``
    and ``line``/``col`` of the mapping itself."""

    __slots__ = ("pos", "line", "col", "end_line", "tag")


class PosList(list):
    """list with ``pos[i] = (line, col, end_line, end_col)`` of each item."""

    __slots__ = ("pos", "line", "col")


class LintLoader(_BaseLoader):
    """Alias bombs are caught before construction by the expanded-size count in load_documents,
    so construction itself needs no per-node alias bookkeeping."""

    def __init__(self, stream):
        super().__init__(stream)
        #: (key, line, col, first_line) for every duplicate key
        self.duplicates: list[tuple] = []


_STR = "tag:yaml.org,2002:str"


def _value(loader, node):
    # Most nodes are plain strings: skip construct_object's bookkeeping for them (it would give
    # node.value all the same; strings need no alias identity).
    if node.tag == _STR and isinstance(node, yaml.ScalarNode):
        return node.value
    return loader.construct_object(node, deep=True)


def _construct_map(loader: LintLoader, node):
    d = PosDict()
    d.pos = {}
    sm = node.start_mark
    d.line, d.col = sm.line + 1, sm.column + 1
    em = node.end_mark
    # A block mapping ends where the next token starts; at column 0 that is the next line.
    d.end_line = em.line + 1 if em.column > 0 else max(em.line, sm.line + 1)
    d.tag = None
    yield d
    merged_from = {}
    inherited: set = set()
    if any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value):
        merged_from = _flatten_with_origin(loader, node)
    for k, v in node.value:
        key = _value(loader, k)
        try:
            hash(key)
        except TypeError:
            raise ConstructorError("while constructing a mapping", node.start_mark,
                                   "found unhashable key (is this a template?)", k.start_mark)
        ks, ke, vs, ve = k.start_mark, k.end_mark, v.start_mark, v.end_mark
        origin = merged_from.get(id(k))
        if origin is not None:
            # A key inherited through `<<: *x` points at the merge key in the user's mapping.
            ks = ke = origin
        if origin is not None:
            inherited.add(key)
        elif key in inherited:
            inherited.discard(key)  # overriding a merged key is what `<<` is for, not a duplicate
        elif key in d.pos:
            prev = d.pos[key]
            loader.duplicates.append((key, ks.line + 1, ks.column + 1, prev[0]))
        d.pos[key] = (ks.line + 1, ks.column + 1, ke.column + 1 if ke.line == ks.line else ks.column + 1 + len(str(key)),
                      vs.line + 1, vs.column + 1, ve.line + 1, ve.column + 1)
        d[key] = _value(loader, v)


_MERGE = "tag:yaml.org,2002:merge"


def _flatten_with_origin(loader, node) -> dict:
    """Resolve merge keys as the YAML merge spec says -- keys of the mapping itself win, then
    earlier mappings of a ``<<: [*a, *b]`` list over later ones -- remembering which key nodes
    came in through a merge (id(key node) -> the merge key's mark) so findings can point at it.

    Our own code, not SafeConstructor.flatten_mapping: PyYAML 6.0.4 rewrote that and lets the
    *later* mapping of a list win, so results would depend on the installed PyYAML.
    """
    sources: list = []
    own: list = []
    mark = None
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            mark = mark or key_node.start_mark
            items = [value_node] if isinstance(value_node, yaml.MappingNode) else (
                value_node.value if isinstance(value_node, yaml.SequenceNode) else None)
            if items is None:
                raise ConstructorError("while constructing a mapping", node.start_mark,
                                       f"expected a mapping or list of mappings for merging, but found "
                                       f"{value_node.id}", value_node.start_mark)
            for sub in items:
                if not isinstance(sub, yaml.MappingNode):
                    raise ConstructorError("while constructing a mapping", node.start_mark,
                                           f"expected a mapping for merging, but found {sub.id}", sub.start_mark)
                if any(k.tag == _MERGE for k, _ in sub.value):
                    _flatten_with_origin(loader, sub)
                sources.append(sub.value)
        else:
            if key_node.tag == "tag:yaml.org,2002:value":
                key_node.tag = "tag:yaml.org,2002:str"
            own.append((key_node, value_node))
    merged = []
    for pairs in reversed(sources):  # constructed in order, the last assignment wins: earliest source last
        merged.extend(pairs)
    node.value = merged + own
    return {id(k): mark for k, _ in merged}


def _construct_seq(loader: LintLoader, node):
    lst = PosList()
    lst.pos = []
    lst.line, lst.col = node.start_mark.line + 1, node.start_mark.column + 1
    yield lst
    for child in node.value:
        s, e = child.start_mark, child.end_mark
        lst.pos.append((s.line + 1, s.column + 1, e.line + 1, e.column + 1))
        lst.append(_value(loader, child))


def _construct_unknown_tag(loader: LintLoader, tag_suffix, node):
    if isinstance(node, yaml.MappingNode):
        gen = _construct_map(loader, node)
        d = next(gen)
        for _ in gen:
            pass
        d.tag = "!" + str(tag_suffix).lstrip("!")
        return d
    if isinstance(node, yaml.SequenceNode):
        gen = _construct_seq(loader, node)
        lst = next(gen)
        for _ in gen:
            pass
        return lst
    return loader.construct_scalar(node)


LintLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
LintLoader.add_constructor("tag:yaml.org,2002:omap", _construct_map)
LintLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
# YAML 1.1 "value key" `=`: a plain string to us (a CRD in the corpus uses it as a key).
LintLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))
LintLoader.add_multi_constructor("!", _construct_unknown_tag)
LintLoader.add_multi_constructor("tag:", _construct_unknown_tag)


class YamlError(Exception):
    """``kind`` is "syntax" (the text is not YAML) or "limit" (valid YAML we refuse to expand:
    alias bomb, excessive nesting)."""

    def __init__(self, message: str, line: int | None, column: int | None, kind: str = "syntax"):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.kind = kind


def _error_from(exc: BaseException) -> YamlError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        parts = [p for p in (exc.context, exc.problem) if p]
        msg = "; ".join(parts) if parts else str(exc)
        kind = "syntax"
        if exc.problem and "recursive node" in exc.problem:
            msg, kind = "an alias refers to a node that contains it (recursive structure); document not checked", \
                "limit"
        return YamlError(msg, mark.line + 1 if mark else None, mark.column + 1 if mark else None, kind)
    if isinstance(exc, yaml.reader.ReaderError):
        return YamlError(f"invalid character in YAML stream: {exc.reason}", None, None)
    return YamlError(str(exc), None, None)


MAX_EXPANDED_NODES = 2_000_000


def _expanded_size(root) -> int:
    """Number of nodes the document has once every alias is expanded, in linear time (memoized
    per node), so an alias bomb is caught before any walker multiplies it out."""
    memo: dict[int, int] = {}
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in memo and not done:
            continue
        if isinstance(node, yaml.ScalarNode):
            memo[key] = 1
            continue
        children = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) else node.value
        if done:
            total = 1
            for c in children:
                total += memo.get(id(c), 1)  # a cycle (recursive alias) counts once
            memo[key] = total
            if total > MAX_EXPANDED_NODES:
                return total
        else:
            memo[key] = 1  # provisional, breaks cycles
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in memo)
    return memo.get(id(root), 1)


MAX_DEPTH = 200
#: Nesting needs brackets (flow) or columns of indentation and ``- ``/``? `` indicators (block,
#: at most about two levels per column); below both thresholds depth stays under ~600 levels,
#: which libyaml's recursive composer survives, so the exact check can be skipped.
_FLOW_SUSPECT = 256
_DEEP_BLOCK = re.compile(r"^[ \t?:-]{128}", re.MULTILINE)


_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
# Quoted scalars and comments may hold closing brackets that are not structure; inside a flow
# collection a plain scalar cannot, so what is left never under-counts real nesting (a stray
# closing bracket outside any collection is clamped at depth 0).
_QUOTED_OR_COMMENT = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'|(?:^|(?<=\s))#[^\n]*', re.MULTILINE)


def _max_bracket_depth(text: str) -> int:
    """Deepest nesting of flow brackets outside quoted scalars and comments (block scalars may
    add openings: an over-estimate only sends the file to the exact check)."""
    depth = deepest = 0
    for c in _NOT_BRACKET.sub("", _QUOTED_OR_COMMENT.sub("", text)):
        if c in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif depth:
            depth -= 1
    return deepest


# An alias bomb needs an anchor and an alias; `&&` or `*` in prose (CRD descriptions) are neither.
_NOT_NAME = frozenset(" \t\r\n[]{},")


def _has_node_property(text: str, sigil: str) -> bool:
    """Whether ``&name`` / ``*name`` stands where YAML allows a node property: at the start of a
    line or list item, after ``key:``, or in flow brackets.  Prose in CRD descriptions ("a && b",
    "*emphasis*") mostly sits elsewhere; a false "yes" only costs the alias-bomb count."""
    i = text.find(sigil)
    while i != -1:
        if i + 1 < len(text) and text[i + 1] not in _NOT_NAME:
            j = i - 1
            while j >= 0 and text[j] in " \t":
                j -= 1
            if j < 0 or text[j] in "\n[{,:-":
                return True
        i = text.find(sigil, i + 1)
    return False


def _check_depth(text: str):
    """``(document number, YamlError)`` for the first document nested more than MAX_DEPTH levels,
    found before libyaml composes it; None when there is none.

    libyaml composes nodes recursively in C: 100,000 nested ``[`` (a 200 KB file) overflow the C
    stack and kill the process with SIGSEGV (measured with PyYAML 6.0.3).  Its event parser keeps
    an explicit stack, so counting depth over events is safe; it costs ~0.3x a load and runs only
    when the cheap counts above allow deep nesting.
    """
    if text.count("[") + text.count("{") < _FLOW_SUSPECT and not _DEEP_BLOCK.search(text):
        return None
    if not _DEEP_BLOCK.search(text) and _max_bracket_depth(text) < MAX_DEPTH // 2:
        return None  # many brackets (CRD schemas, regexes in strings), but never deeply nested
    depth = documents = 0
    try:
        for event in yaml.parse(text, Loader=_BaseLoader):
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    return documents, YamlError(f"nested more than {MAX_DEPTH} levels deep; document not checked",
                                                mark.line + 1, mark.column + 1, "limit")
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
    except yaml.YAMLError as exc:
        # libyaml >= 0.2.5 (PyYAML 6.0.4 wheels) stops at its own depth limit (1000) first
        mark = getattr(exc, "problem_mark", None)
        if "nesting depth" in str(getattr(exc, "problem", "") or "") and mark is not None:
            return documents, YamlError(f"nested more than {MAX_DEPTH} levels deep; document not checked",
                                        mark.line + 1, mark.column + 1, "limit")
        # any other syntax error before the limit: the real load reports it with its position
    return None


def load_documents(text: str):
    """Yield ``(document, loader)`` for each non-empty document; raise YamlError on the first
    syntax error (documents before it have been yielded)."""
    too_deep = _check_depth(text)
    loader = LintLoader(text)
    has_anchors = _has_node_property(text, "&") and _has_node_property(text, "*")
    documents = 0
    node = None
    try:
        while loader.check_node():
            documents += 1
            if too_deep and too_deep[0] == documents:
                raise too_deep[1]
            node = loader.get_node()
            if node is None:
                continue
            if has_anchors:
                size = _expanded_size(node)
                if size > MAX_EXPANDED_NODES:
                    raise YamlError(f"aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (alias bomb); "
                                    f"document not checked", node.start_mark.line + 1, node.start_mark.column + 1,
                                    "limit")
            doc = loader.construct_document(node)
            if doc is not None:
                yield doc, loader
    except RecursionError:
        mark = node.start_mark if node is not None else None
        raise YamlError("document nested too deeply to check", mark.line + 1 if mark else None,
                        mark.column + 1 if mark else None, "limit") from None
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        raise _error_from(exc) from None
    finally:
        loader.dispose()
