"""The check engine: the condition language (engine/conditions.py), three-valued logic over
UNKNOWN, parameters, dotted fields, compile errors with their path, message rendering (secrets
masked), finding locations (engine/run.py) and check-file validation (engine/checks.py)."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from linter.engine.checks import Check, CheckError, builtin_checks_dir, load_check_file, load_registry
from linter.engine.conditions import OPERATORS, ConditionError, compile_condition, referenced_fields
from linter.engine.run import render_message, run_checks
from linter.model import UNKNOWN, Container, Image, Location, Setting, Workload

P = "k8s/app.yaml"


def ev(cond, obj, params=None):
    """Truth of a condition over any object (no field validation)."""
    return compile_condition(cond, lambda dotted: None, params or {})(obj)[0]


def make_check(condition, target="container", message="{name}", **extra) -> Check:
    raw = {"id": "TST001", "name": "test-check", "title": "t", "severity": "high", "target": target,
           "condition": condition, "message": message, **extra}
    return Check(raw, "<test>", builtin=False)


def container(name="web", line=10, **fields) -> Container:
    ct = Container("kubernetes", P, f"Pod/default/p/container/{name}", Location(P, line, 7), name)
    for k, v in fields.items():
        setattr(ct, k, v)
    return ct


def with_image(ct: Container, reference, line=12) -> Image:
    img = Image("kubernetes", P, ct.ident + "/image", Location(P, line, 9, line, 30), reference)
    ct.image = img
    ct.locs["image"] = img.loc
    return img


# -- every operator ----------------------------------------------------------------------------

OPERATOR_CASES = [
    # (operator, operand, value, expected truth)
    ("equals", 0, 0, True), ("equals", 0, 1, False), ("equals", "0", 0, False),
    ("equals", None, None, True), ("equals", "a", None, False),
    ("not_equals", "root", "app", True), ("not_equals", "root", "root", False), ("not_equals", "x", None, True),
    ("in", ["a", "b"], "a", True), ("in", ["a", "b"], "c", False), ("in", ["a"], ["a"], False),
    ("not_in", ["a", "b"], "c", True), ("not_in", ["a", "b"], "b", False), ("not_in", ["a"], ["a"], True),
    ("exists", True, "x", True), ("exists", True, None, False), ("exists", True, [], False),
    ("exists", True, {}, False), ("exists", True, 0, True), ("exists", True, False, True),
    ("exists", False, None, True), ("exists", False, "x", False),
    ("missing", True, None, True), ("missing", True, [], True), ("missing", True, "", False),
    ("missing", False, "x", True),
    ("is_empty", True, [], True), ("is_empty", True, None, True), ("is_empty", True, ["a"], False),
    ("is_empty", True, "a", False), ("is_empty", False, ["a"], True),
    ("not_empty", True, ["a"], True), ("not_empty", True, [], False), ("not_empty", False, [], True),
    ("matches", "^/var/run/docker", "/var/run/docker.sock", True), ("matches", "sock$", "/a/sock.d", False),
    ("matches", "docker", None, False), ("matches", "1", 1, False),
    ("not_matches", "^/etc", "/var", True), ("not_matches", "^/etc", "/etc/x", False),
    ("not_matches", "^/etc", None, True),
    ("any_matches", "^SYS_", ["CHOWN", "SYS_ADMIN"], True), ("any_matches", "^SYS_", ["CHOWN"], False),
    ("any_matches", "^SYS_", "SYS_TIME", True), ("any_matches", "^SYS_", [], False),
    ("gt", 0, 1, True), ("gt", 0, 0, False), ("ge", 0, 0, True), ("ge", 1, 0, False),
    ("lt", 1000, 999, True), ("lt", 1000, 1000, False), ("le", 1000, 1000, True), ("le", 1000, 1001, False),
    ("gt", 0, True, False), ("gt", 0, "5", False), ("lt", 10, None, False), ("ge", 0.5, 0.5, True),
    ("contains", "ALL", ["NET_RAW", "ALL"], True), ("contains", "ALL", ["NET_RAW"], False),
    ("contains", "ALL", "ALL", True), ("contains", "ALL", None, False),
    ("contains_any", ["SYS_ADMIN", "ALL"], ["CHOWN", "ALL"], True), ("contains_any", ["ALL"], ["CHOWN"], False),
    ("contains_any", ["ALL"], [], False), ("contains_any", ["ALL"], None, False),
    ("contains_all", ["ALL"], ["ALL", "NET_RAW"], True), ("contains_all", ["ALL", "NET_RAW"], ["ALL"], False),
    ("contains_all", ["ALL"], [["ALL"]], False),
    ("contains_other_than", ["NET_BIND_SERVICE"], ["NET_BIND_SERVICE", "CHOWN"], True),
    ("contains_other_than", ["NET_BIND_SERVICE"], ["NET_BIND_SERVICE"], False),
    ("contains_other_than", ["NET_BIND_SERVICE"], [], False),
    ("starts_with_any", ["/proc", "/sys"], "/sys/kernel", True), ("starts_with_any", ["/proc"], "/var", False),
    ("starts_with_any", ["/proc"], None, False),
]


@pytest.mark.parametrize("op,operand,value,expected", OPERATOR_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(OPERATOR_CASES)])
def test_operator(op, operand, value, expected):
    assert ev({"field": "v", op: operand}, SimpleNamespace(v=value)) is expected


def test_every_operator_has_a_case():
    assert {c[0] for c in OPERATOR_CASES} == set(OPERATORS)


def test_absent_attribute_reads_as_none():
    assert ev({"field": "nope", "missing": True}, SimpleNamespace()) is True


# -- all / any / not ---------------------------------------------------------------------------

T = {"field": "t", "equals": True}
F = {"field": "t", "equals": False}
U = {"field": "u", "equals": True}  # over an UNKNOWN value


def obj():
    return SimpleNamespace(t=True, u=UNKNOWN)


@pytest.mark.parametrize("cond,expected", [
    ({"all": [T, T]}, True), ({"all": [T, F]}, False), ({"all": [T]}, True),
    ({"any": [F, T]}, True), ({"any": [F, F]}, False),
    ({"not": T}, False), ({"not": F}, True), ({"not": {"not": T}}, True),
    # Kleene logic: unknown propagates unless the known operands already decide
    (U, None),
    ({"all": [T, U]}, None), ({"all": [U, F]}, False), ({"all": [F, U]}, False),
    ({"any": [F, U]}, None), ({"any": [U, T]}, True),
    ({"not": U}, None), ({"not": {"all": [T, U]}}, None), ({"not": {"any": [F, U]}}, None),
    ({"not": {"all": [U, F]}}, True),
    ({"all": [{"any": [U, F]}, T]}, None),
])
def test_three_valued_logic(cond, expected):
    assert ev(cond, obj()) is expected


@pytest.mark.parametrize("op,operand", [
    ("equals", "app"), ("not_equals", "app"), ("exists", True), ("missing", True), ("missing", False),
    ("in", ["root"]), ("not_in", ["root"]), ("matches", "."), ("not_matches", "."), ("gt", 0), ("is_empty", True),
])
def test_every_operator_is_unknown_over_unknown(op, operand):
    assert ev({"field": "v", op: operand}, SimpleNamespace(v=UNKNOWN)) is None


@pytest.mark.parametrize("condition", [
    {"field": "user", "equals": UNKNOWN},
    {"field": "user", "not_equals": "app"},
    {"not": {"field": "user", "equals": "app"}},
    {"not": {"field": "user", "in": ["app", "nobody"]}},
    {"not": {"not": {"field": "user", "not_equals": "app"}}},
    {"any": [{"field": "privileged", "equals": True}, {"not": {"field": "user", "exists": True}}]},
])
def test_a_check_never_fires_on_unknown_even_under_not(condition):
    ct = container(user=UNKNOWN, privileged=False)
    assert run_checks([make_check(condition)], [ct]) == []


def test_unknown_member_of_a_list_decides_only_when_known_members_do():
    known_hit = SimpleNamespace(caps=["SYS_ADMIN", UNKNOWN])
    undecided = SimpleNamespace(caps=["CHOWN", UNKNOWN])
    assert ev({"field": "caps", "contains_any": ["SYS_ADMIN"]}, known_hit) is True
    assert ev({"field": "caps", "contains_any": ["SYS_ADMIN"]}, undecided) is None
    assert ev({"not": {"field": "caps", "contains_any": ["SYS_ADMIN"]}}, undecided) is None
    # exists/missing look at the list itself, which is known to be non-empty
    assert ev({"field": "caps", "exists": True}, undecided) is True


def test_predicate_reports_the_fields_that_made_it_true():
    c = compile_condition({"all": [{"field": "a", "equals": 1}, {"any": [{"field": "b", "equals": 0},
                                                                         {"field": "c", "equals": 1}]}]},
                          lambda d: None, {})
    assert c(SimpleNamespace(a=1, b=1, c=1)) == (True, ("a", "c"))
    assert c(SimpleNamespace(a=1, b=1, c=0)) == (False, ())
    # a negation holds no field of its own
    assert compile_condition({"not": {"field": "a", "equals": 0}}, lambda d: None, {})(SimpleNamespace(a=1)) \
        == (True, ())


# -- parameters and dotted fields --------------------------------------------------------------

def test_param_operands_take_the_declared_default_and_overrides():
    cond = {"field": "capabilities_add", "contains_any": {"param": "dangerous"}}
    raw_params = {"params": {"dangerous": ["SYS_ADMIN"]}}
    ct = container(capabilities_add=["NET_ADMIN"])
    assert make_check(cond, **raw_params).evaluate(ct)[0] is False
    overridden = Check({**make_check(cond, **raw_params).raw}, "<test>", False, params={"dangerous": ["NET_ADMIN"]})
    assert overridden.evaluate(ct)[0] is True


def test_param_operand_works_with_scalar_operators():
    cond = {"field": "run_as_user", "lt": {"param": "min-uid"}}
    check = make_check(cond, params={"min-uid": 10000})
    assert check.evaluate(container(run_as_user=1000))[0] is True
    assert check.evaluate(container(run_as_user=10001))[0] is False


def test_undeclared_param_is_an_error_with_its_path():
    with pytest.raises(ConditionError) as exc:
        make_check({"all": [{"field": "privileged", "equals": True},
                            {"field": "capabilities_add", "contains_any": {"param": "caps"}}]}).compile()
    assert exc.value.path == ("condition", "all", 1, "contains_any")
    assert "parameter 'caps'" in str(exc.value)


def test_dotted_fields_follow_sub_resources():
    w = Workload("kubernetes", P, "Deployment/shop/api", Location(P, 1, 1), "Deployment", "api", "shop")
    w.host_network = True
    ct = container(workload=w)
    with_image(ct, "nginx:latest")
    assert make_check({"field": "image.tag", "equals": "latest"}).evaluate(ct)[0] is True
    assert make_check({"field": "image.mutable_tag", "equals": True}).evaluate(ct)[0] is True
    assert make_check({"field": "workload.host_network", "equals": True}).evaluate(ct)[0] is True
    assert make_check({"field": "workload.namespace", "equals": "shop"}).evaluate(ct)[0] is True


def test_dotted_field_through_none_is_none_and_through_unknown_is_unknown():
    no_image = container()
    assert make_check({"field": "image.tag", "missing": True}).evaluate(no_image)[0] is True
    unknown_image = container()
    unknown_image.image = UNKNOWN
    assert make_check({"field": "image.tag", "missing": True}).evaluate(unknown_image)[0] is None
    unresolved_ref = container()
    with_image(unresolved_ref, UNKNOWN)
    assert make_check({"field": "image.tag", "equals": "latest"}).evaluate(unresolved_ref)[0] is None
    assert make_check({"field": "image.mutable_tag", "equals": True}).evaluate(unresolved_ref)[0] is None


def test_dotted_field_below_a_plain_value_is_not_validated():
    # labels is a dict: labels.app cannot be checked statically, so it compiles (and reads None)
    check = make_check({"field": "labels.app", "exists": True}, target="workload")
    check.compile()


def test_referenced_fields_and_cross_file_detection():
    cond = {"all": [{"field": "kind", "in": ["Deployment"]},
                    {"not": {"field": "network_policy_selected", "equals": True}},
                    {"any": [{"field": "host_network", "equals": True}]}]}
    assert referenced_fields(cond) == ["kind", "network_policy_selected", "host_network"]
    assert make_check(cond, target="workload").cross_file is True
    assert make_check({"field": "privileged", "equals": True}).cross_file is False


# -- compile errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("condition,path,needle", [
    ({"field": "privilegd", "equals": True}, ("condition", "field"),
     "unknown field 'privilegd' for container (known fields: "),
    ({"field": "image.tga", "equals": "x"}, ("condition", "field"), "unknown field 'image.tga' for image"),
    ({"field": "workload.host_net", "equals": True}, ("condition", "field"), "unknown field 'workload.host_net'"),
    ({"all": [{"field": "privileged", "equals": True}, {"not": {"field": "nope", "exists": True}}]},
     ("condition", "all", 1, "not", "field"), "unknown field 'nope'"),
    ({"field": "privileged", "equal": True}, ("condition", "equal"), "unknown operator 'equal'"),
    ({"field": "name", "matches": "([a-z"}, ("condition", "matches"), "bad regular expression '([a-z'"),
    ({"field": "name", "in": "root"}, ("condition", "in"), "'in' needs a list"),
    ({"field": "run_as_user", "gt": "0"}, ("condition", "gt"), "'gt' needs a number"),
    ({"field": "run_as_user", "gt": True}, ("condition", "gt"), "'gt' needs a number"),
    ({"field": "capabilities_add", "contains_any": "ALL"}, ("condition", "contains_any"), "needs a list"),
    ({"field": "privileged"}, ("condition",), "exactly one operator"),
    ({"field": "privileged", "equals": True, "exists": True}, ("condition",), "exactly one operator"),
    ({"field": "", "equals": True}, ("condition", "field"), "dotted field name"),
    ({"all": []}, ("condition", "all"), "non-empty list"),
    ({"any": {"field": "privileged", "equals": True}}, ("condition", "any"), "non-empty list"),
    ({"all": [{"field": "privileged", "equals": True}], "field": "x"}, ("condition",), "must stand alone"),
    ({"not": {"field": "privileged", "equals": True}, "any": []}, ("condition",), "must stand alone"),
    ({"privileged": True}, ("condition",), "expected 'all', 'any', 'not' or 'field'"),
    ({}, ("condition",), "non-empty mapping"),
    ({"any": ["privileged"]}, ("condition", "any", 0), "non-empty mapping"),
])
def test_condition_errors_name_their_path(condition, path, needle):
    with pytest.raises(ConditionError) as exc:
        make_check(condition).compile()
    assert exc.value.path == path
    assert needle in str(exc.value)


def test_check_file_errors_carry_the_line_of_the_offending_key(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("id: ACME001\nname: bad-check\ntitle: t\nseverity: high\ntarget: container\n"
                 "condition:\n  all:\n    - field: privileged\n      equals: true\n"
                 "    - field: privilegd\n      equals: true\n"
                 "message: m\ndescription: d\nrationale: r\nremediation: x\nreferences: []\n")
    with pytest.raises(CheckError) as exc:
        load_check_file(f, builtin=False, validate=True)
    assert exc.value.line == 10
    assert "unknown field 'privilegd'" in exc.value.message
    assert str(exc.value).startswith(f"{f}:10: ")


def test_schema_errors_name_the_json_path_and_line(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("id: ACME001\nname: bad-check\ntitle: t\nseverity: severe\ntarget: container\n"
                 "condition: {field: privileged, equals: true}\n"
                 "message: m\ndescription: d\nrationale: r\nremediation: x\nreferences: []\n")
    with pytest.raises(CheckError) as exc:
        load_check_file(f, builtin=False, validate=True)
    assert exc.value.line == 4 and exc.value.message.startswith("severity: ")


def test_user_check_duplicating_a_builtin_id_is_refused(tmp_path):
    src = (builtin_checks_dir() / "privileged-container.yaml").read_text()
    (tmp_path / "mine.yaml").write_text(src.replace("name: privileged-container", "name: my-privileged"))
    with pytest.raises(CheckError) as exc:
        load_registry([str(tmp_path)])
    assert "'IAC102' is already defined by" in exc.value.message


def test_user_checks_load_and_run_alongside_builtins(tmp_path):
    (tmp_path / "acme.yaml").write_text(
        "id: ACME001\nname: acme-no-debug-images\ntitle: No debug images\nseverity: low\ntarget: image\n"
        "condition: {field: repository, matches: '-debug$'}\nmessage: \"{reference} is a debug build\"\n"
        "description: d\nrationale: r\nremediation: x\nreferences: []\n")
    reg = load_registry([str(tmp_path)])
    check = reg.get("acme-no-debug-images")
    assert check is reg.get("ACME001") and check.builtin is False
    assert reg.get("IAC102") is not None
    ct = container()
    img = with_image(ct, "acme/api-debug:1.0")
    (f,) = run_checks([check], [img])
    assert f.message == "acme/api-debug:1.0 is a debug build"


# -- built-in checks -----------------------------------------------------------------------------

def _builtin_files():
    return sorted(builtin_checks_dir().glob("*.yaml"))


@pytest.mark.parametrize("path", _builtin_files(), ids=lambda p: p.stem)
def test_builtin_check_validates_against_the_schema(path):
    from linter.engine.checks import validate_against_schema
    from linter.yamlload import load_documents

    (raw,) = [d for d, _ in load_documents(path.read_text())]
    validate_against_schema(raw, str(path))  # raises CheckError with a line on failure
    check = load_check_file(path, builtin=True, validate=True)
    assert check.name == path.stem, "a check file is named after its check"
    assert check.help_uri.endswith(f"/{check.name}/")


def test_builtin_ids_and_names_are_unique_and_registry_resolves_both(registry):
    ids = [c.id for c in registry]
    assert len(ids) == len(set(ids)) == len(_builtin_files())
    for c in registry:
        assert registry.get(c.id) is c and registry.get(c.name) is c and registry.get(c.id.lower()) is c


def test_schema_is_valid_json_schema():
    import jsonschema

    schema = json.loads((Path(__file__).resolve().parent.parent / "linter" / "schemas" / "check.schema.json")
                        .read_text())
    jsonschema.Draft202012Validator.check_schema(schema)


# -- message rendering -------------------------------------------------------------------------

def secret_setting(value="hunter2hunter2", name="DB_PASSWORD"):
    return Setting("kubernetes", P, f"Pod/default/p/container/web/env/{name}", Location(P, 20, 11, 20, 33),
                   name, value, "env")


def test_rendering_masks_setting_values_whatever_the_template():
    s = secret_setting()
    out = render_message("{context} '{name}' = {value} / {masked_value}", s)
    assert out == "env 'DB_PASSWORD' = hu********r2 / hu********r2"
    assert "hunter2hunter2" not in out


def test_rendering_a_container_env_list_prints_names_not_values():
    ct = container(env=[secret_setting(), secret_setting("s3cr3tvalue99", "API_TOKEN")])
    out = render_message("{name}: {env}", ct)
    assert out == "web: DB_PASSWORD, API_TOKEN"


def test_short_secrets_are_fully_masked():
    assert render_message("{value}", secret_setting("abc12")) == "****"
    assert render_message("{value}", secret_setting("")) == ""


def test_rendering_formats_values_and_follows_dotted_fields():
    w = Workload("kubernetes", P, "Deployment/shop/api", Location(P, 1, 1), "Deployment", "api", "shop")
    w.labels = {"tier": "backend", "app": "api"}
    ct = container(privileged=True, capabilities_add=["SYS_ADMIN", "NET_RAW"], workload=w, user=None)
    with_image(ct, "nginx:1.27")
    assert render_message("{privileged} {capabilities_add} {workload.labels}", ct) \
        == "true SYS_ADMIN, NET_RAW app=api,tier=backend"
    assert render_message("{image} {image.tag} {workload}", ct) == "nginx:1.27 1.27 api"
    assert render_message("[{user}] [{nope}] [{image.nope.deeper}]", ct) == "[] [] []"
    assert render_message("{name:>5}|", ct) == "  web|"


def test_a_broken_template_renders_as_written():
    ct = container()
    assert render_message("oops {name", ct) == "oops {name"
    assert render_message("{0}", ct) == "{0}"


# -- finding locations ---------------------------------------------------------------------------

def test_location_prefers_the_checks_location_list_in_order():
    ct = container(run_as_user=0, user=0, run_as_non_root=False)
    ct.locs["run_as_user"] = Location(P, 14, 9, 14, 21)
    ct.locs["run_as_non_root"] = Location(P, 13, 9, 13, 28)
    check = make_check({"field": "run_as_user", "equals": 0}, location=["user", "run_as_non_root", "run_as_user"])
    (f,) = run_checks([check], [ct])
    assert (f.line, f.column, f.end_column, f.field) == (13, 9, 28, "run_as_non_root")


def test_location_falls_back_to_the_fields_that_held():
    ct = container(privileged=True, capabilities_add=["SYS_ADMIN"])
    ct.locs["capabilities_add"] = Location(P, 16, 11, 16, 30)
    check = make_check({"any": [{"field": "privileged", "equals": False},
                                {"field": "capabilities_add", "contains": "SYS_ADMIN"}]})
    (f,) = run_checks([check], [ct])
    assert (f.line, f.column, f.field) == (16, 11, "capabilities_add")


def test_location_falls_back_to_the_resource():
    ct = container(line=8, privileged=True)
    (f,) = run_checks([make_check({"field": "privileged", "equals": True})], [ct])
    assert (f.path, f.line, f.column, f.end_line, f.end_column, f.field) == (P, 8, 7, 8, 0, None)


def test_dotted_location_points_at_the_sub_resource():
    ct = container()
    with_image(ct, "nginx", line=12)
    (f,) = run_checks([make_check({"field": "image.tag", "missing": True})], [ct])
    assert (f.line, f.column, f.end_column, f.field) == (12, 9, 30, "image.tag")


def test_findings_carry_check_metadata_and_respect_formats():
    ct = container(privileged=True)
    dockerfile_ct = Container("dockerfile", "Dockerfile", "Dockerfile:image", Location("Dockerfile", 1, 1), "stage 0")
    dockerfile_ct.privileged = True
    check = make_check({"field": "privileged", "equals": True}, formats=["kubernetes"], message="{name} is privileged")
    (f,) = run_checks([check], [ct, dockerfile_ct])
    assert (f.rule_id, f.rule_name, f.severity, f.resource, f.message, f.format) == (
        "TST001", "test-check", "high", ct.ident, "web is privileged", "kubernetes")


def test_checks_only_see_their_target_type():
    s = secret_setting()
    ct = container(privileged=True)
    check = make_check({"field": "name", "exists": True}, target="setting")
    assert [f.resource for f in run_checks([check], [ct, s])] == [s.ident]
