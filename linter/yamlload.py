"""YAML loading with source positions, on libyaml's C parser.

Positions are recorded by our own constructors while PyYAML builds the Python objects (cheaper
than composing a node graph and walking it afterwards; with the shortcuts below, less CPU than a
plain CSafeLoader load of the corpus: benchmarks/stages.py).  Every mapping
is a :class:`PosDict` whose ``pos[key]`` holds the key's and the value's marks; every sequence
is a :class:`PosList` whose ``pos[i]`` holds the item's mark.  All positions are 1-based, columns
count Unicode code points (what libyaml counts).

Hardening: duplicate keys are recorded (the last wins, as in Kubernetes and Compose) rather than
silently dropped; alias expansion is capped (billion-laughs); unknown tags (Compose ``!reset``,
CloudFormation ``!Ref``) load as their plain value instead of failing the file.
"""
from __future__ import annotations


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


_NO_PATH_RESOLVERS: dict = {}


class LintLoader(_BaseLoader):
    """Alias bombs are caught before construction by the expanded-size count in load_documents,
    so construction itself needs no per-node alias bookkeeping."""

    def __init__(self, stream):
        super().__init__(stream)
        #: (key, line, col, first_line) for every duplicate key
        self.duplicates: list[tuple] = []
        #: the text has no alias: every node is constructed once, so construct_object's
        #: identity and recursion bookkeeping can be skipped (set by load_documents)
        self.direct = False
        #: the text may hold a ``<<`` merge key (plain ``<<`` or an explicit tag; set by load_documents)
        self.may_merge = True

    # The C composer calls these two around every node, for path resolvers, which this loader
    # has none of: builtin no-ops (a lookup in an empty dict, clearing it) save ~4% of a load.
    descend_resolver = _NO_PATH_RESOLVERS.get
    ascend_resolver = _NO_PATH_RESOLVERS.clear

    def resolve(self, kind, value, implicit):
        """BaseResolver.resolve without its per-call list building, remembering what plain
        scalars resolve to (the C composer calls it for every node; it was ~15% of a load).
        Same answers: the loader has no path resolvers, the implicit ones are fixed at import."""
        if kind is _Scalar:
            if implicit[0]:
                resolvers = _IMPLICIT.get(value[:1], _IMPLICIT_ANY)
                if resolvers:
                    tag = _resolved.get(value)
                    if tag is None:
                        tag = _STR
                        for candidate, regexp in resolvers:
                            if regexp.match(value):
                                tag = candidate
                                break
                        if len(_resolved) < 4096:
                            _resolved[value] = tag
                    return tag
            return _STR
        return _SEQ if kind is _Sequence else _MAP


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_Scalar, _Mapping, _Sequence = yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode


def _value(loader, node):
    # Most nodes are plain strings: skip construct_object's bookkeeping for them (it would give
    # node.value all the same; strings need no alias identity).
    if node.tag == _STR and isinstance(node, yaml.ScalarNode):
        return node.value
    return loader.construct_object(node, deep=True)


def _build(loader, node):
    """What construct_object(node, deep=True) returns, for a document without aliases: the same
    constructors called directly (construct_object's cache and recursion guard exist for nodes
    reached twice, which only an alias makes).  ~20% of construction on the corpus."""
    cls = node.__class__
    if cls is _Scalar:
        if node.tag == _STR:
            return node.value
        constructor = _SCALAR_CONSTRUCTORS.get(node.tag)
        if constructor is not None:
            return constructor(loader, node)
    elif cls is _Mapping:
        if node.tag == _MAP:
            d = _new_map(node)
            _fill_map(loader, node, d, _build)
            return d
    elif cls is _Sequence and node.tag == _SEQ:
        lst = _new_seq(node)
        _fill_seq(loader, node, lst, _build)
        return lst
    return loader.construct_object(node, deep=True)


def _new_map(node) -> PosDict:
    d = PosDict()
    d.pos = {}
    sm = node.start_mark
    d.line, d.col = sm.line + 1, sm.column + 1
    em = node.end_mark
    # A block mapping ends where the next token starts; at column 0 that is the next line.
    d.end_line = em.line + 1 if em.column > 0 else max(em.line, sm.line + 1)
    d.tag = None
    return d


def _new_seq(node) -> PosList:
    lst = PosList()
    lst.pos = []
    sm = node.start_mark
    lst.line, lst.col = sm.line + 1, sm.column + 1
    return lst


def _construct_map(loader: LintLoader, node):
    d = _new_map(node)
    yield d
    _fill_map(loader, node, d, _build if loader.direct else _value)


def _unhashable(node, key_node):
    return ConstructorError("while constructing a mapping", node.start_mark,
                            "found unhashable key (is this a template?)", key_node.start_mark)


def _fill_map(loader: LintLoader, node, d: PosDict, child) -> None:
    """Keys and values of a mapping node into ``d``; ``child`` constructs each (sub)node."""
    pairs = node.value
    if loader.may_merge:
        for k, _ in pairs:
            if k.tag == _MERGE:
                return _fill_merged(loader, node, d, child)
    pos = d.pos
    duplicates = loader.duplicates
    for k, v in pairs:
        if k.__class__ is _Scalar and k.tag == _STR:
            key = k.value
        else:
            key = child(loader, k)
            try:
                hash(key)
            except TypeError:
                raise _unhashable(node, k) from None
        ks = k.start_mark
        kl, kc = ks.line, ks.column + 1
        if key in pos:
            duplicates.append((key, kl + 1, kc, pos[key][0]))
        ke, vs, ve = k.end_mark, v.start_mark, v.end_mark
        pos[key] = (kl + 1, kc, ke.column + 1 if ke.line == kl else kc + len(str(key)),
                    vs.line + 1, vs.column + 1, ve.line + 1, ve.column + 1)
        d[key] = v.value if v.__class__ is _Scalar and v.tag == _STR else child(loader, v)


def _fill_merged(loader: LintLoader, node, d: PosDict, child) -> None:
    """_fill_map for a mapping with ``<<`` merge keys."""
    inherited: set = set()
    merged_from = _flatten_with_origin(loader, node)
    for k, v in node.value:
        key = child(loader, k)
        try:
            hash(key)
        except TypeError:
            raise _unhashable(node, k) from None
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
        d[key] = child(loader, v)


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
    lst = _new_seq(node)
    yield lst
    _fill_seq(loader, node, lst, _build if loader.direct else _value)


def _fill_seq(loader: LintLoader, node, lst: PosList, child) -> None:
    pos = lst.pos
    for c in node.value:
        s, e = c.start_mark, c.end_mark
        pos.append((s.line + 1, s.column + 1, e.line + 1, e.column + 1))
        lst.append(c.value if c.__class__ is _Scalar and c.tag == _STR else child(loader, c))


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


def _construct_omap(loader: LintLoader, node):
    """``!!omap``: by the YAML type repository a sequence of one-pair mappings, read as one
    mapping of those pairs in order (each key keeps its own position); a mapping written with
    the tag is taken as it is."""
    if isinstance(node, yaml.SequenceNode):
        pairs = []
        for item in node.value:
            if not isinstance(item, yaml.MappingNode) or len(item.value) != 1:
                raise ConstructorError("while constructing an ordered map (!!omap)", node.start_mark,
                                       "expected a mapping of exactly one key and value", item.start_mark)
            pairs.append(item.value[0])
        node = yaml.MappingNode(_MAP, pairs, node.start_mark, node.end_mark)
    elif not isinstance(node, yaml.MappingNode):
        raise ConstructorError(None, None, "an ordered map (!!omap) must be a sequence of one-pair mappings",
                               node.start_mark)
    yield from _construct_map(loader, node)


LintLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
LintLoader.add_constructor("tag:yaml.org,2002:omap", _construct_omap)
LintLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
# YAML 1.1 "value key" `=`: a plain string to us (a CRD in the corpus uses it as a key).
LintLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))
LintLoader.add_multi_constructor("!", _construct_unknown_tag)
LintLoader.add_multi_constructor("tag:", _construct_unknown_tag)
_IMPLICIT_ANY = tuple(LintLoader.yaml_implicit_resolvers.get(None, ()))
#: first character of a plain scalar -> the implicit resolvers to try, as BaseResolver.resolve does
_IMPLICIT = {first: tuple(resolvers) + _IMPLICIT_ANY
             for first, resolvers in LintLoader.yaml_implicit_resolvers.items() if first is not None}
_resolved: dict = {}  # plain scalar -> its tag (bounded)
#: scalar tags whose constructor _build may call directly (none of them is a generator)
_SCALAR_CONSTRUCTORS = {tag: LintLoader.yaml_constructors[tag] for tag in (
    "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value")}


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
#: The composer survives ~20,000 levels on an 8 MB stack (measured), fewer on a smaller one.
#: Nesting needs flow brackets or block structure; block structure needs indentation and
#: ``- ``/``? ``/``: `` indicators at the start of its line (at most about two levels per column:
#: a tag or anchor cannot stand before a nested block collection on the same line).  A document
#: under both bounds below stays under ~460 levels, so the exact count can be skipped.
_FLOW_SUSPECT = 256
_BLOCK_COLUMNS = 128
_FLOW_BOUND = MAX_DEPTH // 2


def _byte_classes() -> bytes:
    """The table for one ``bytes.translate`` pass (memory speed) that maps the UTF-8 text onto
    the few classes the bounds need: ``" "`` what may precede a block node on its line
    (indentation and the ``-``, ``?``, ``:`` indicators), ``"\\n"`` a line break, ``"["``/``"]"``
    an opening/closing bracket, ``"'"`` what may start a quoted scalar, a comment or a tag
    (``' " # !``), ``"x"`` anything else.  libyaml also breaks lines at CR, NEL, LS and PS: their
    last UTF-8 byte is a break here, so characters sharing that byte only over-count."""
    table = bytearray(b"x" * 256)
    for chars, cls in ((b" \t?:-", b" "), (b"\n\r\x85\xa8\xa9", b"\n"), (b"[{", b"["), (b"]}", b"]"),
                       (b"'\"#!", b"'")):
        for c in chars:
            table[c] = cls[0]
    return bytes(table)


_CLASSES = _byte_classes()
_DEEP_LINE = b"\n" + b" " * _BLOCK_COLUMNS


def _flow_depth_bound(classes: bytes, passes: int = 16) -> int:
    """An upper bound on the bracket nesting of the whole text (flow nesting is at most twice
    that: ``[k: v]`` holds a one-pair mapping), from cancelling every ``[`` with a
    ``]`` that follows with only plain text between (no quote, comment or tag start; no bracket
    but pairs already cancelled).

    Such a pair never closes structure that its opening did not open: inside a flow collection
    nothing but flow indicators, anchors, aliases and plain scalars can come between, and a plain
    scalar there cannot hold a bracket, so a structural opening is closed by a structural
    closing; otherwise the opening is text (a quoted or block scalar, a comment, a plain scalar in
    block context) and counting it only over-estimates.  At any point the depth is then at most
    the openings never cancelled plus the cancelled pairs open there, which nest no deeper than
    the rounds of cancelling (each round removes the innermost pairs).  After ``passes`` rounds
    the rest counts as uncancelled: deep input goes to the exact check instead of costing
    quadratic time here."""
    s = classes.translate(None, b" \nx")
    rounds = 0
    while rounds < passes:
        t = s.replace(b"[]", b"")
        if len(t) == len(s):
            break
        s = t
        rounds += 1
    return s.count(b"[") + rounds


# An alias bomb needs an anchor and an alias.  libyaml names them with [0-9A-Za-z_-] only, so
# `&&` and `*`+backtick in prose (CRD descriptions, CEL rules) are neither.
_ANCHOR_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-")
_BEFORE_NODE = frozenset("\n\r\x85\u2028\u2029\ufeff[{,:?-")
_BLANKS = frozenset(" \t\n\r\x85\u2028\u2029")


def _has_node_property(text: str, sigil: str) -> bool:
    """Whether ``&name`` / ``*name`` stands where YAML allows a node property: at the start of a
    line (or after a byte-order mark there, which libyaml skips), after an indicator (``- ``, ``? ``, ``key:``, flow brackets and commas) or, for an anchor,
    after a tag (``!!seq &a``).  Prose mostly sits elsewhere; a false "yes" only costs the
    alias-bomb count, a false "no" would let a bomb through, so every such place counts."""
    n = len(text)
    i = text.find(sigil)
    while i != -1:
        if i + 1 < n and text[i + 1] in _ANCHOR_CHARS:
            j = i - 1
            while j >= 0 and text[j] in " \t":
                j -= 1
            if j < 0 or text[j] in _BEFORE_NODE:
                return True
            if sigil == "&" and j < i - 1:
                # a tag is the blank-free word before the anchor, and has a `!` somewhere
                k = j
                while k >= 0 and text[k] not in _BLANKS:
                    if text[k] == "!":
                        return True
                    k -= 1
        i = text.find(sigil, i + 1)
    return False


def _check_depth(text: str):
    """``(document number, YamlError)`` for the first document nested more than MAX_DEPTH levels,
    found before libyaml composes it; None when there is none.

    libyaml composes nodes recursively in C: 100,000 nested ``[`` (a 200 KB file) overflow the C
    stack and kill the process with SIGSEGV (measured with PyYAML 6.0.3).  Its event parser keeps
    an explicit stack, so counting depth over events is safe; it costs ~0.3x a load and runs only
    when the cheap bounds above allow deep nesting.
    """
    classes = text.encode("utf-8", "surrogatepass").translate(_CLASSES)
    deep_block = classes.startswith(_DEEP_LINE[1:]) or _DEEP_LINE in classes
    if not deep_block and (classes.count(b"[") < _FLOW_SUSPECT or _flow_depth_bound(classes) < _FLOW_BOUND):
        return None  # few brackets, or many that pair up (CRD schemas, regexes in strings)
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
    has_aliases = _has_node_property(text, "*")
    has_anchors = has_aliases and _has_node_property(text, "&")
    loader.direct = not has_aliases
    # the resolver makes a merge key only of a plain `<<`; any other way to it is a tag (`!`)
    loader.may_merge = "<<" in text or "!" in text
    documents = 0
    node = None
    try:
        while True:
            # (linter.parsers.yamlfile pauses the cyclic collector around the whole load)
            if not loader.check_node():
                break
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
                                    f"document not checked", node.start_mark.line + 1,
                                    node.start_mark.column + 1, "limit")
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
