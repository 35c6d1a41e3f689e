"""The YAML loader's fast paths must give what the general ones give, and its cheap pre-scans
must never wave through what they exist to stop (a nesting depth that crashes libyaml's C
composer, an alias bomb).  End-to-end hostile cases are in test_hostile_input.py."""
import gc
import subprocess
import sys

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from linter import yamlload
from linter.parsers import yamlfile
from linter.yamlload import LintLoader, YamlError, load_documents

DEEP = 100_000


def _deep(prefix: str, suffix: str = "") -> str:
    return prefix + "[" * DEEP + "]" * DEEP + suffix


# Quote characters that are no quotes (in plain scalars) once made a regex-based pre-scan skip
# the brackets between them, and libyaml then died of the nesting (SIGSEGV).
HIDDEN_NESTING = {
    "apostrophes in block scalars": _deep("a: don't\nb: ", "\nc: it's\n"),
    "apostrophes in a flow sequence": _deep("b: [don't, ", ", it's]\n"),
    "inch marks": _deep('a: 5" screen\nb: ', '\nc: 7" screen\n'),
    "hash without a space": _deep("b: [a#b, ", "]\n"),
    "a quoted closing bracket": 'b: [a"b, "]", ' * 2_000 + "x" + "]" * 2_000 + "\n",
}


@pytest.mark.parametrize("text", HIDDEN_NESTING.values(), ids=HIDDEN_NESTING)
def test_quote_characters_cannot_hide_deep_nesting(text):
    found = yamlload._check_depth(text)
    assert found is not None
    document, error = found
    assert document == 1 and error.kind == "limit" and "nested more than 200" in error.message


def test_hidden_nesting_does_not_kill_the_process():
    code = ("import sys; from linter.parsers import yamlfile\n"
            "pf = yamlfile.parse('deep.yaml', sys.stdin.read())\n"
            "print(pf.diagnostics[0].message)\n")
    proc = subprocess.run([sys.executable, "-c", code], input="apiVersion: v1\nkind: Pod\n"
                          + HIDDEN_NESTING["apostrophes in block scalars"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "nested more than 200 levels deep" in proc.stdout


def test_bracket_heavy_schemas_skip_the_exact_check():
    # A CRD: thousands of brackets in regexes and `[]` in descriptions, none of them deep.
    crd = "".join(f"      p{i}:\n        pattern: ^[a-z]([-a-z0-9]*[a-z0-9])?$\n"
                  f"        description: a list ([]string) of names {{like this}}\n" for i in range(500))
    classes = crd.encode().translate(yamlload._CLASSES)
    assert classes.count(b"[") > 1_000
    assert yamlload._flow_depth_bound(classes) < 10


def test_flow_bound_counts_what_quotes_may_hide():
    text = '["a", ' * 150 + "]" * 150
    assert yamlload._flow_depth_bound(text.encode().translate(yamlload._CLASSES)) >= 150


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.text("[]{}'\"#!:, -a\\\n", max_size=6),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text("ab'[", max_size=3), inner,
                                                                                 max_size=3), max_leaves=30),
       st.sampled_from([True, False, None]))
def test_flow_bound_is_a_bound(value, flow_style):
    text = yaml.dump(value, default_flow_style=flow_style, width=40)
    depth = deepest = 0
    flows = []
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            flows.append(event.flow_style is True)
            depth += flows[-1]
            deepest = max(deepest, depth)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= flows.pop()
    # a `k: v` pair inside a flow sequence is a one-pair mapping: one level without a bracket
    assert deepest <= 2 * yamlload._flow_depth_bound(text.encode().translate(yamlload._CLASSES))


def _billion_laughs(tag: str) -> str:
    lines = ["apiVersion: v1", "kind: ConfigMap", "data:", f'  a: {tag}&a ["lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"  {name}: {tag}&{name} [" + ", ".join([f"*{prev}"] * 8) + "]")
        prev = name
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("tag", ["", "!!seq ", "!<tag:yaml.org,2002:seq> "])
def test_alias_bomb_is_caught_with_or_without_tags(tag):
    with pytest.raises(YamlError) as exc:
        list(load_documents(_billion_laughs(tag)))
    assert exc.value.kind == "limit" and "alias bomb" in exc.value.message


@pytest.mark.parametrize("text, sigil, expected", [
    ("rule: a &&\n  && b\n", "&", False),       # CEL in a CRD description: no anchor name follows
    ("x: `X-B3-*` headers\n", "*", False),
    ("note: see *emphasis*\n", "*", False),     # mid-scalar, not where a node starts
    ("a: !!map &m {k: v}\n", "&", True),        # after a tag
    ("a: !<tag:x,y> &m v\n", "&", True),
    ("- &a x\n- *a\n", "*", True),
    ("{? *a : 1}\n", "*", True),                # complex key in flow
    ("a: 1\n\ufeff*a : 2\n", "*", True),        # a byte-order mark libyaml skips at a line start
])
def test_node_property_detection(text, sigil, expected):
    assert yamlload._has_node_property(text, sigil) is expected


TRICKY = [
    "a: 1\nb: [x, 2, 3.5, true, null, ~, 2024-01-02, 2024-01-02T03:04:05Z, 0o7, 0755, 22:22, 1e3]\n",
    "base: {a: 1, b: 2}\nm:\n  <<: {a: 3, c: 4}\n  b: 5\n",
    "m:\n  <<: [{a: 1}, {a: 2, b: 3}]\n  c: 4\n",
    "dup: 1\ndup: 2\nx: {k: 1, k: 2}\n",
    "= : value\n'<<': literal\n\"x\": y\n",
    "r: !reset {a: 1}\no: !override [1, 2]\ns: !reset\nt: !Ref name\n",
    "b: !!binary aGVsbG8=\nst: !!set {a, b}\nom: !!omap [{a: 1}, {b: 2}]\np: !!pairs [{a: 1}, {a: 2}]\n",
    "i: !!int '7'\nf: !!float '1'\ns: !!str 7\nn: !!null ''\n",
    "? [a, b]\n: complex\n",
    "1: int key\ntrue: bool key\nnull: null key\n3.5: float\n",
    "--- \n- a\n- - b\n  - c: d\n---\nlast: doc\n",
    "k: |\n  block\n  text\nf: >-\n  folded\n  text\n",
]


def _load(text: str, direct: bool):
    loader = LintLoader(text)
    loader.direct = direct
    docs = []
    try:
        while loader.check_node():
            docs.append(_canon(loader.construct_document(loader.get_node())))
    except Exception as exc:  # noqa: BLE001 - both ways must fail alike (`!!omap [...]`: a TypeError)
        docs.append((type(exc).__name__, str(exc)))
    finally:
        loader.dispose()
    return docs, loader.duplicates


def _canon(x):
    if isinstance(x, dict):
        return ("map", type(x).__name__, [(repr(k), _canon(v)) for k, v in x.items()],
                sorted((repr(k), p) for k, p in getattr(x, "pos", {}).items()),
                [getattr(x, a, None) for a in ("line", "col", "end_line", "tag")])
    if isinstance(x, (list, set)):
        return ("seq", type(x).__name__, [_canon(v) for v in (sorted(x) if isinstance(x, set) else x)],
                list(getattr(x, "pos", [])), getattr(x, "line", None), getattr(x, "col", None))
    return (type(x).__name__, repr(x))


@pytest.mark.parametrize("text", TRICKY)
def test_direct_construction_is_construct_object(text):
    assert _load(text, True) == _load(text, False)


@pytest.mark.parametrize("value", [
    "", "~", "null", "Null", "NULL", "nil", "true", "True", "yes", "No", "off", "On", "y", "n", "0", "-1", "+12",
    "0755", "0o755", "0x1F", "0b101", "1_000", "22:22", "190:20:30", "1.5", "-.inf", ".NaN", "1e3", "1.0e+3",
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "<<", "=", "a", "-", "-a", ".", "+", "1.2.3", "08", "09:60",
])
def test_resolve_is_pyyaml_resolve(value):
    loader = LintLoader("")
    try:
        for kind, implicit in ((yaml.ScalarNode, (True, False)), (yaml.ScalarNode, (False, True))):
            expected = yaml.resolver.BaseResolver.resolve(loader, kind, value, implicit)
            assert loader.resolve(kind, value, implicit) == expected
            assert loader.resolve(kind, value, implicit) == expected  # remembered
        for kind in (yaml.SequenceNode, yaml.MappingNode):
            assert loader.resolve(kind, None, True) == yaml.resolver.BaseResolver.resolve(loader, kind, None, True)
    finally:
        loader.dispose()


@pytest.mark.parametrize("text", ["apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n", "a: [\n", _billion_laughs("")])
@pytest.mark.parametrize("enabled", [True, False])
def test_parsing_leaves_the_collector_as_it_found_it(text, enabled):
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        yamlfile.parse("x.yaml", text)
        list(load_documents("a: 1\n"))
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def _short_volume_parts(text: str) -> list:
    """The character loop compose.py replaced, as reference: a ':' after a lone drive letter
    is not a separator."""
    parts, buf = [], ""
    for ch in text:
        if ch == ":" and not (len(buf) == 1 and buf.isalpha()):
            parts.append(buf)
            buf = ""
        else:
            buf += ch
    parts.append(buf)
    return parts


@settings(max_examples=300, deadline=None)
@given(st.text("C:/\\.a1é", max_size=12))
def test_compose_volume_split_is_the_character_loop(spec):
    from linter.model import ParsedFile
    from linter.parsers.compose import _Mapper

    mapper = _Mapper(ParsedFile("docker-compose.yml", "compose"), "")
    got = mapper._short_volume(spec, None)
    parts = _short_volume_parts(spec)
    if len(spec) <= 2 or len(parts) == 1:
        assert got[0] is None and got[2] is False
    elif len(parts) > 3 or "" in parts:
        assert got is None
    else:
        assert got[1] == parts[1]


def test_omap_is_an_ordered_mapping_with_positions_and_bad_ones_are_diagnosed(tmp_path):
    from linter.scan import parse_bytes
    from linter.yamlload import YamlError, load_documents

    (doc, _), = load_documents("a: !!omap\n  - x: 1\n  - y: 2\n")
    assert doc["a"] == {"x": 1, "y": 2} and doc["a"].pos["y"][:2] == (3, 5)
    for bad in ("a: !!omap [x]\n", "a: !!omap [{x: 1, y: 2}]\n", "a: !!omap x\n"):
        with pytest.raises(YamlError):
            list(load_documents(bad))
    pf = parse_bytes("cm.yaml", "yaml", b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: !!omap [x]\n")
    assert [(d.line, d.level) for d in pf.diagnostics] == [(4, "error")]
    assert "ordered map" in pf.diagnostics[0].message and "internal error" not in pf.diagnostics[0].message
