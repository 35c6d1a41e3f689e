"""Docker Compose files -> model: service fields, exact locations, variable interpolation and
the .env file, extends / merge keys / !reset, wrong shapes as diagnostics, detection.

Compose files are tiny strings; line and column numbers in the assertions are counted in them
(1-based; end_column exclusive)."""
from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linter.model import UNKNOWN
from linter.parsers import yamlfile
from linter.parsers.compose_interp import UNRESOLVED, InterpolationError, interpolate, parse_dotenv

P = "deploy/compose.yaml"


def compose(text: str, path: str = P):
    pf = yamlfile.parse(path, textwrap.dedent(text))
    assert not [d for d in pf.diagnostics if "internal error" in d.message], pf.diagnostics
    return pf


def of(pf, type_name):
    return list(pf.of_type(type_name))


def containers(pf):
    return {c.name: c for c in of(pf, "container")}


def workloads(pf):
    return {w.name: w for w in of(pf, "workload")}


def env(pf, service):
    return {s.name: s for s in containers(pf)[service].env}


def span(loc):
    return (loc.line, loc.column, loc.end_line, loc.end_column)


def errors(pf, level="error"):
    return [d for d in pf.diagnostics if d.level == level]


def findings(pf, registry, check_name):
    from linter.engine.run import run_checks

    return run_checks([registry.get(check_name)], pf.resources)


# -- the shape of the model --------------------------------------------------------------------

WEB = """\
services:
  web:
    image: nginx:1.27.2
    user: "1000"
    privileged: true
    read_only: true
    cap_add: [sys_admin, CAP_NET_ADMIN]
    cap_drop: [all]

    # a comment after the service belongs to nobody
  db:
    image: postgres:16.4
"""


def test_each_service_is_a_workload_with_one_service_container():
    pf = compose(WEB)
    w = workloads(pf)["web"]
    assert (w.kind, w.name, w.namespace, w.format) == ("ComposeService", "web", None, "compose")
    assert w.ident == "compose.yaml/services/web"
    assert w.network_policy_scope is False
    (ct,) = w.containers
    assert ct.ident == "compose.yaml/services/web/container"
    assert (ct.role, ct.root_by_default, ct.workload) == ("service", False, w)
    assert ct.image.ident == "compose.yaml/services/web/container/image"
    assert (ct.image.reference, ct.image.context, ct.image.tag) == ("nginx:1.27.2", "service", "1.27.2")
    assert ct.image in pf.resources


def test_locations_are_the_service_key_and_each_fields_key():
    pf = compose(WEB)
    ct = containers(pf)["web"]
    assert span(ct.loc) == (2, 3, 2, 6)
    assert span(workloads(pf)["web"].loc) == (2, 3, 2, 6)
    assert span(ct.locs["privileged"]) == (5, 5, 5, 21)
    assert span(ct.image.loc) == (3, 5, 3, 24)
    assert ct.locs["user"].line == 4
    assert ct.locs["capabilities_add"].line == 7


def test_end_line_is_the_last_line_of_the_service_not_the_next_key():
    pf = compose(WEB)
    # The YAML end mark of `web` lies on `db:` (line 11); the service ends at line 8.
    assert containers(pf)["web"].end_line == 8
    assert workloads(pf)["web"].end_line == 8
    assert containers(pf)["db"].end_line == 12


def test_security_fields():
    ct = containers(compose(WEB))["web"]
    assert ct.user == "1000" and ct.runs_as_root is False
    assert ct.privileged is True and ct.read_only_root_fs is True
    assert ct.capabilities_add == ["SYS_ADMIN", "NET_ADMIN"]
    assert ct.capabilities_drop == ["ALL"]


@pytest.mark.parametrize("written,user,root", [
    ("root", "root", True),
    ('"0"', "0", True),
    ("0:0", "0:0", True),  # YAML 1.1 would make this the number 0
    ("1000:1000", "1000:1000", False),  # ... and this 60001000
    ('"root:www-data"', "root:www-data", True),
    ("1000", "1000", False),
    ('""', None, False),
    ('"${APP_UID}"', UNKNOWN, UNKNOWN),
    ('"${APP_UID:-0}"', "0", True),
])
def test_user(written, user, root):
    ct = containers(compose(f"services:\n  s:\n    image: a:1\n    user: {written}\n"))["s"]
    assert ct.user == user
    assert ct.runs_as_root is root


def test_unset_user_is_the_images_choice():
    ct = containers(compose("services:\n  s:\n    image: a:1\n"))["s"]
    assert ct.user is None and ct.runs_as_root is False


@pytest.mark.parametrize("opts,nnp,apparmor,seccomp,selinux", [
    (["no-new-privileges"], True, None, None, None),
    (["no-new-privileges:true"], True, None, None, None),
    (["no-new-privileges=true"], True, None, None, None),
    (["no-new-privileges:false"], False, None, None, None),
    (["apparmor=unconfined"], None, "unconfined", None, None),
    (["apparmor:unconfined"], None, "unconfined", None, None),
    (["apparmor=docker-default"], None, "localhost/docker-default", None, None),
    (["seccomp=unconfined"], None, None, "Unconfined", None),
    (["seccomp:unconfined"], None, None, "Unconfined", None),
    (["seccomp=/etc/profile.json"], None, None, "Localhost", None),
    (["label=disable"], None, None, None, "disabled"),
    (["label:disable"], None, None, None, "disabled"),
    (["label=type:spc_t"], None, None, None, "spc_t"),
    (["label:user:USER"], None, None, None, None),
    (["${OPT}"], UNKNOWN, None, None, None),
    (["${OPT}", "no-new-privileges"], True, None, None, None),
])
def test_security_opt(opts, nnp, apparmor, seccomp, selinux):
    items = "".join(f"\n      - {o!r}" for o in opts)
    ct = containers(compose(f"services:\n  s:\n    image: a:1\n    security_opt:{items}\n"))["s"]
    assert (ct.no_new_privileges, ct.apparmor_profile, ct.seccomp_profile, ct.selinux_type) == \
        (nnp, apparmor, seccomp, selinux)


def test_security_opt_locations_point_at_the_item():
    pf = compose("""\
        services:
          s:
            image: a:1
            security_opt:
              - apparmor=unconfined
              - no-new-privileges:false
        """)
    ct = containers(pf)["s"]
    assert span(ct.locs["apparmor_profile"]) == (5, 9, 5, 28)
    assert ct.locs["no_new_privileges"].line == 6


@pytest.mark.parametrize("key,value,field,expected", [
    ("network_mode", "host", "host_network", True),
    ("network_mode", '"service:web"', "host_network", False),
    ("network_mode", "container:abc", "host_network", False),
    ("network_mode", "none", "host_network", False),
    ("net", "host", "host_network", True),
    ("pid", '"host"', "host_pid", True),
    ("pid", "service:web", "host_pid", False),
    ("ipc", "host", "host_ipc", True),
    ("ipc", "shareable", "host_ipc", False),
    ("userns_mode", "host", "host_users", True),
    ("network_mode", "${NET}", "host_network", UNKNOWN),
    ("network_mode", "${NET:-host}", "host_network", True),
])
def test_namespaces(key, value, field, expected):
    w = workloads(compose(f"services:\n  s:\n    image: a:1\n    {key}: {value}\n"))["s"]
    assert getattr(w, field) is expected
    assert w.locs[field].line == 4


def test_unset_namespaces_are_none():
    w = workloads(compose("services:\n  s:\n    image: a:1\n"))["s"]
    assert (w.host_network, w.host_pid, w.host_ipc, w.host_users) == (None, None, None, None)
    assert w.host_namespaces == []


# -- ports ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("item,host_ports,everywhere", [
    ('"8080:80"', [8080], [8080]),
    ("8080:80", [8080], [8080]),  # unquoted: YAML 1.1 reads the number 483680
    ('"127.0.0.1:8080:80"', [8080], []),
    ('"0.0.0.0:8080:80"', [8080], [8080]),
    ('"[::1]:8080:80"', [8080], []),
    ('"[::]:8080:80"', [8080], [8080]),
    ('"8080:80/udp"', [8080], [8080]),
    ('"6000-6005:6000-6005"', ["6000-6005"], ["6000-6005"]),
    ('"80"', [], []),  # container port only: a random host port
    ("80", [], []),
    ('"127.0.0.1::80"', [], []),
    ('"${PORT:-3000}:3000"', [3000], [3000]),
    ('"${PORT}:3000"', [UNKNOWN], [UNKNOWN]),
    ('"${BIND}:8080:80"', [8080], [UNKNOWN]),
    ('"${PORT_SPEC}"', [UNKNOWN], [UNKNOWN]),  # may be "80" or "8080:80"
    ("{target: 80, published: 8080}", [8080], [8080]),
    ('{target: 80, published: "8080", host_ip: 127.0.0.1}', [8080], []),
    ("{target: 80}", [], []),
])
def test_ports(item, host_ports, everywhere):
    ct = containers(compose(f"services:\n  s:\n    image: a:1\n    ports:\n      - {item}\n"))["s"]
    assert ct.host_ports == host_ports
    assert ct.ports_all_interfaces == everywhere
    if host_ports:
        assert ct.locs["host_ports"].line == 5


def test_long_syntax_port_points_at_published():
    pf = compose("""\
        services:
          s:
            image: a:1
            ports:
              - target: 80
                published: 8080
        """)
    assert containers(pf)["s"].locs["ports_all_interfaces"].line == 6


# -- volumes -------------------------------------------------------------------------------------

VOLUMES = """\
services:
  s:
    image: a:1
    volumes:
      - ./src:/app:ro
      - /var/run/docker.sock:/var/run/docker.sock
      - data:/data
      - /cache
      - C:\\Users\\me:/win:rw
      - host_etc:/host-etc:ro,z
      - type: bind
        source: /etc
        target: /host-etc2
        read_only: true
      - type: volume
        source: data
        target: /data2
      - type: tmpfs
        target: /tmp
      - ${DATA_DIR}:/unknown
volumes:
  data:
  host_etc:
    driver_opts: {type: none, o: bind, device: /etc}
"""


def test_volumes():
    pf = compose(VOLUMES)
    ct = containers(pf)["s"]
    got = {m.container_path: (m.host_path, m.read_only) for m in ct.mounts}
    assert got == {
        "/app": ("./src", True),
        "/var/run/docker.sock": ("/var/run/docker.sock", False),
        "/data": (None, False),
        "/cache": (None, False),
        "/win": ("C:\\Users\\me", False),
        "/host-etc": ("/etc", True),
        "/host-etc2": ("/etc", True),
        "/data2": (None, False),
        "/tmp": (None, False),
        "/unknown": (UNKNOWN, False),
    }


def test_bind_mounts_are_resources_and_workload_volumes():
    pf = compose(VOLUMES)
    mounts = {m.container_path: m for m in of(pf, "mount")}
    assert set(mounts) == {"/app", "/var/run/docker.sock", "/win", "/host-etc", "/host-etc2", "/unknown"}
    sock = mounts["/var/run/docker.sock"]
    assert sock.ident == "compose.yaml/services/s/container/mount//var/run/docker.sock"
    assert span(sock.locs["host_path"]) == (6, 9, 6, 50)
    assert sock.container is containers(pf)["s"] and sock.workload is workloads(pf)["s"]
    assert mounts["/host-etc2"].locs["host_path"].line == 12  # long syntax: the source key
    assert sock in workloads(pf)["s"].volumes


def test_a_later_volume_with_the_same_target_wins():
    pf = compose("""\
        services:
          base:
            image: a:1
            volumes: ["/etc:/conf"]
          child:
            extends: base
            volumes: ["./conf:/conf:ro"]
        """)
    (m,) = containers(pf)["child"].mounts
    assert (m.host_path, m.read_only, m.loc.line) == ("./conf", True, 7)


# -- environment -------------------------------------------------------------------------------

def test_environment_map_form():
    pf = compose("""\
        services:
          s:
            image: a:1
            environment:
              DB_PASSWORD: hunter2hunter2
              REF: ${DB_PASSWORD}
              DOLLAR: $OTHER
              MIXED: "prefix-${UNSET}"
              FALLBACK: ${X:-literal}
              EMPTY_FALLBACK: ${X:-}
              PASSTHROUGH:
              DEBUG: yes
              MODE: 0755
              ESCAPED: $$HOME
        """)
    e = env(pf, "s")
    assert {k: (s.value, s.from_reference) for k, s in e.items()} == {
        "DB_PASSWORD": ("hunter2hunter2", False),
        "REF": (None, True),
        "DOLLAR": (None, True),
        "MIXED": (UNKNOWN, False),
        "FALLBACK": ("literal", False),
        "EMPTY_FALLBACK": (None, True),
        "PASSTHROUGH": (None, True),
        "DEBUG": ("yes", False),   # as written, not YAML 1.1's True
        "MODE": ("0755", False),   # ... not 493
        "ESCAPED": ("$HOME", False),
    }
    s = e["DB_PASSWORD"]
    assert (s.context, s.ident) == ("env", "compose.yaml/services/s/container/env/DB_PASSWORD")
    assert span(s.loc) == (5, 7, 5, 34)
    assert s in pf.resources and s.container is containers(pf)["s"]
    assert s.plaintext_secret is True and e["MIXED"].plaintext_secret is UNKNOWN


def test_environment_list_form():
    pf = compose("""\
        services:
          s:
            image: a:1
            environment:
              - API_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyz
              - EMPTY=
              - PASSTHROUGH
              - REF=${TOKEN}
              - "QUOTED=a=b"
        """)
    e = env(pf, "s")
    assert {k: (s.value, s.from_reference) for k, s in e.items()} == {
        "API_TOKEN": ("ghp_0123456789abcdefghijklmnopqrstuvwxyz", False),
        "EMPTY": ("", False),
        "PASSTHROUGH": (None, True),
        "REF": (None, True),
        "QUOTED": ("a=b", False),
    }
    assert e["API_TOKEN"].loc.line == 5 and e["QUOTED"].loc.line == 9


def test_build_args_are_settings_and_env_files_secrets_configs_are_recorded():
    pf = compose("""\
        services:
          s:
            build:
              context: .
              args:
                NPM_TOKEN: npm_0123456789abcdefghijklmnopqrstuvwxyz
            env_file: [.env.app, {path: ./more.env, required: false}]
            secrets: [db_password, {source: api_key, target: key}]
            configs: [nginx_conf]
        """)
    (arg,) = [s for s in of(pf, "setting") if s.context == "build-arg"]
    assert (arg.name, arg.ident) == ("NPM_TOKEN", "compose.yaml/services/s/container/build-arg/NPM_TOKEN")
    ct = containers(pf)["s"]
    assert ct.env == []  # build args are not the container's environment
    assert ct.image is None  # build-only: nothing to pin
    assert ct.env_files == [".env.app", "./more.env"]
    assert ct.secrets == ["db_password", "api_key"] and ct.configs == ["nginx_conf"]


def test_image_of_a_service_with_build_names_the_build_result():
    pf = compose("services:\n  s:\n    build: .\n    image: shop/api\n    privileged: false\n")
    assert of(pf, "image") == [] and containers(pf)["s"].image is None


def test_build_privileged_is_not_the_containers():
    pf = compose("services:\n  s:\n    build: {context: ., privileged: true}\n")
    assert containers(pf)["s"].privileged is None


# -- resources, health check, sysctls ------------------------------------------------------------

def test_resources_from_deploy_and_legacy_keys():
    pf = compose("""\
        services:
          deploy:
            image: a:1
            deploy:
              resources:
                limits: {cpus: "0.5", memory: 512M}
                reservations: {cpus: 0.25, memory: 128M}
          legacy:
            image: a:1
            mem_limit: 256m
            mem_reservation: 64m
            cpus: 1.5
        """)
    d, leg = containers(pf)["deploy"], containers(pf)["legacy"]
    assert (d.cpu_limit, d.memory_limit, d.cpu_request, d.memory_request) == ("0.5", "512M", "0.25", "128M")
    assert d.locs["memory_limit"].line == 6
    assert (leg.cpu_limit, leg.memory_limit, leg.cpu_request, leg.memory_request) == ("1.5", "256m", None, "64m")


@pytest.mark.parametrize("body,expected", [
    ("healthcheck:\n      test: [CMD, curl, -f, http://localhost]", True),
    ("healthcheck:\n      test: curl -f http://localhost", True),
    ("healthcheck:\n      disable: true", False),
    ('healthcheck:\n      test: ["NONE"]', False),
    ("healthcheck:\n      interval: 10s", None),  # tunes the image's own HEALTHCHECK, if any
    ("labels: {a: b}", None),
])
def test_healthcheck(body, expected):
    ct = containers(compose(f"services:\n  s:\n    image: a:1\n    {body}\n"))["s"]
    assert ct.healthcheck is expected


def test_sysctls_map_and_list():
    pf = compose("""\
        services:
          m:
            image: a:1
            sysctls: {net.core.somaxconn: 1024, net.ipv4.tcp_syncookies: 0}
          l:
            image: a:1
            sysctls: ["net.core.somaxconn=1024"]
        """)
    assert workloads(pf)["m"].sysctls == ["net.core.somaxconn", "net.ipv4.tcp_syncookies"]
    assert workloads(pf)["l"].sysctls == ["net.core.somaxconn"]
    assert workloads(pf)["m"].locs["sysctls"].line == 4


# -- interpolation -------------------------------------------------------------------------------

ENV = {"SET": "value", "EMPTY": "", "TAG": "1.2"}


@pytest.mark.parametrize("template,text,reference", [
    ("plain", "plain", False),
    ("${SET}", "value", True),
    ("$SET", "value", True),
    ("${UNSET}", UNRESOLVED, True),
    ("$UNSET", UNRESOLVED, True),
    ("a-${SET}-b", "a-value-b", False),
    ("${SET}${TAG}", "value1.2", True),
    ("${UNSET:-dflt}", "dflt", False),
    ("${EMPTY:-dflt}", "dflt", False),
    ("${EMPTY-dflt}", "", True),
    ("${UNSET-dflt}", "dflt", False),
    ("${SET:-dflt}", "value", True),
    ("${UNSET:-${SET}}", "value", True),
    ("${UNSET:-${UNSET2:-deep}}", "deep", False),
    ("${UNSET:-{braces}}", "{braces}", False),
    ("${SET:+alt}", "alt", False),
    ("${EMPTY:+alt}", "", True),
    ("${EMPTY+alt}", "alt", False),
    ("${UNSET+alt}", "", True),
    ("${SET:?must be set}", "value", True),
    ("${UNSET:?must be set}", UNRESOLVED, True),
    ("${UNSET?must be set}", UNRESOLVED, True),
    ("$$", "$", False),
    ("$${SET}", "${SET}", False),
    ("$$SET", "$SET", False),
    ("echo $(date)", "echo $(date)", False),  # Compose leaves a `$` before anything else alone
    ("$2a$14$1lx", "$2a$14$1lx", False),
    ("$2a$14$abc", "$2a$14" + UNRESOLVED, False),  # but `$abc` is a variable
    ("cost: 5$", "cost: 5$", False),
])
def test_interpolate(template, text, reference):
    e = interpolate(template, ENV)
    assert (e.text, e.reference) == (text, reference)


@pytest.mark.parametrize("template", ["${VAR", "${}", "${1X}", "${VAR:=x}", "${VAR x}", "a ${B:-${C}"])
def test_interpolation_syntax_errors(template):
    with pytest.raises(InterpolationError):
        interpolate(template, ENV)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="$${}:-+?AB_ x1\n\"'#=\\", max_size=30))
def test_interpolation_and_dotenv_fail_only_with_their_own_errors(text):
    try:
        e = interpolate(text, ENV)
        assert isinstance(e.text, str)
    except InterpolationError:
        pass
    parse_dotenv(text)


def test_interpolation_error_is_a_diagnostic_where_written_and_the_rest_is_checked():
    pf = compose("""\
        services:
          s:
            image: nginx:${TAG
            privileged: true
            command: ["sh", "-c", "echo ${OOPS"]
        """)
    errs = errors(pf)
    assert [(d.line, d.column) for d in errs] == [(3, 12), (5, 27)]
    assert "services.s.image" in errs[0].message and "'$$'" in errs[0].message
    assert "services.s.command[2]" in errs[1].message
    ct = containers(pf)["s"]
    assert ct.image.reference is UNKNOWN and ct.image.mutable_tag is UNKNOWN
    assert ct.privileged is True


def test_an_invalid_expression_in_an_extension_is_reported_once_even_when_merged_twice():
    pf = compose("""\
        x-env: &env
          environment: {A: "${B"}
        services:
          s1: {image: a:1, <<: *env}
          s2: {image: a:1, <<: *env}
        """)
    assert [d.line for d in errors(pf)] == [2]
    assert env(pf, "s1")["A"].value is UNKNOWN


# -- the .env file -------------------------------------------------------------------------------

def test_parse_dotenv():
    text = textwrap.dedent("""\
        # comment
        PLAIN=value
        export EXPORTED=yes
        SPACED = spaced value   # trailing comment
        HASH=abc#def
        SINGLE='literal ${PLAIN} \\n'
        DOUBLE="line1\\nline2 ${PLAIN}"
        MULTI="first
        second"
        REF=${PLAIN}-x
        UNKNOWN_REF=${NOPE}
        YAML_STYLE: colon
        EMPTY=
        INHERITED

        bad line here
        """)
    values, problems = parse_dotenv(text)
    assert values == {
        "PLAIN": "value", "EXPORTED": "yes", "SPACED": "spaced value", "HASH": "abc#def",
        "SINGLE": "literal ${PLAIN} \\n", "DOUBLE": "line1\nline2 value", "MULTI": "first\nsecond",
        "REF": "value-x", "UNKNOWN_REF": UNRESOLVED, "YAML_STYLE": "colon", "EMPTY": "",
    }
    assert problems == [(16, "expected KEY=VALUE, found 'bad line here'")]


def test_unterminated_quote_in_dotenv():
    values, problems = parse_dotenv('A="never closed\nB=2\n')
    assert "A" not in values and problems[0][0] == 1 and "unterminated" in problems[0][1]


def test_dotenv_beside_the_file_resolves_variables_and_the_process_environment_does_not(tmp_path, monkeypatch):
    monkeypatch.setenv("TAG", "latest")
    monkeypatch.setenv("SECRET", "from-the-shell")
    (tmp_path / ".env").write_text("TAG=1.2\nREGISTRY='registry.example.com'\n")
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  web:\n    image: ${REGISTRY}/web:${TAG:-latest}\n"
                    "    environment: {SECRET_KEY: '${SECRET}'}\n")
    pf = yamlfile.parse(str(path), path.read_text())
    img = of(pf, "image")[0]
    assert img.reference == "registry.example.com/web:1.2" and img.mutable_tag is False
    assert env(pf, "web")["SECRET_KEY"].from_reference is True
    # Without .env the fallback is used; the shell's TAG never is.
    (tmp_path / ".env").unlink()
    pf = yamlfile.parse(str(path), path.read_text())
    assert of(pf, "image")[0].reference is UNKNOWN  # ${REGISTRY} has no fallback


def test_problems_in_dotenv_are_warnings_on_the_dotenv_file(tmp_path):
    (tmp_path / ".env").write_text("GOOD=1\nnot an assignment\n")
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  web:\n    image: nginx:${GOOD}\n")
    pf = yamlfile.parse(str(path), path.read_text())
    (d,) = pf.diagnostics
    assert (d.path, d.line, d.level) == (str(tmp_path / ".env"), 2, "warning")
    assert of(pf, "image")[0].reference == "nginx:1"


# -- merge keys, extends, !reset ---------------------------------------------------------------

def test_a_key_inherited_through_a_merge_key_points_at_the_merge_key(registry):
    pf = compose("""\
        x-danger: &danger
          privileged: true
          cap_add: [SYS_ADMIN]
        services:
          s:
            image: a:1
            <<: *danger
        """)
    ct = containers(pf)["s"]
    assert ct.privileged is True
    assert ct.locs["privileged"].line == 7 and ct.locs["capabilities_add"].line == 7
    (f,) = findings(pf, registry, "privileged-container")
    assert (f.line, f.column) == (7, 5)


def test_merge_key_lists():
    pf = compose("""\
        x-a: &a {user: root}
        x-b: &b {privileged: true, user: nobody}
        services:
          s:
            image: a:1
            <<: [*a, *b]
        """)
    ct = containers(pf)["s"]
    assert (ct.user, ct.privileged) == ("root", True)  # the first mapping listed wins


EXTENDS = """\
services:
  base:
    image: nginx:1.27.2
    privileged: true
    cap_add: [NET_ADMIN]
    environment:
      A: base
      B: base
    deploy:
      resources:
        limits: {memory: 512M}
  string-form:
    extends: base
    user: root
  mapping-form:
    extends:
      service: base
    privileged: false
    cap_add: [SYS_TIME]
    environment:
      - B=child
      - C=child
    deploy:
      resources:
        limits: {cpus: "1"}
  reset:
    extends: base
    privileged: !reset null
    cap_add: !reset []
    environment: !override
      Z: only
  reset-one-variable:
    extends: base
    environment:
      A: !reset null
"""


def test_extends_string_and_mapping_forms_inherit_with_the_bases_locations():
    pf = compose(EXTENDS)
    s = containers(pf)["string-form"]
    assert (s.privileged, s.user, s.image.reference) == (True, "root", "nginx:1.27.2")
    assert s.locs["privileged"].line == 4  # written in `base`
    assert s.image.loc.line == 3 and s.image.ident == "compose.yaml/services/string-form/container/image"
    assert s.locs["user"].line == 14


def test_extends_overrides_scalars_and_merges_lists_mappings_and_deploy():
    m = containers(compose(EXTENDS))["mapping-form"]
    assert m.privileged is False and m.locs["privileged"].line == 18
    assert m.capabilities_add == ["NET_ADMIN", "SYS_TIME"]
    assert {k: (s.value, s.loc.line) for k, s in env(compose(EXTENDS), "mapping-form").items()} == {
        "A": ("base", 7), "B": ("child", 21), "C": ("child", 22)}
    assert (m.memory_limit, m.cpu_limit) == ("512M", "1")


def test_reset_drops_and_override_replaces_the_inherited_value():
    pf = compose(EXTENDS)
    r = containers(pf)["reset"]
    assert r.privileged is None and r.capabilities_add == []
    assert list(env(pf, "reset")) == ["Z"]
    assert list(env(pf, "reset-one-variable")) == ["B"]


def test_extends_problems_are_diagnostics():
    pf = compose("""\
        services:
          a: {image: a:1, extends: b}
          b: {extends: a, privileged: true}
          self: {image: a:1, extends: self}
          missing: {image: a:1, extends: {service: nope}}
          elsewhere: {image: a:1, extends: {service: web, file: common.yaml}}
        """)
    msgs = {(d.line, d.level): d.message for d in pf.diagnostics}
    assert "extends cycle (a -> b -> a)" in msgs[(3, "error")]
    assert "extends cycle (self -> self)" in msgs[(4, "error")]
    assert "'nope', which is not defined" in msgs[(5, "error")]
    assert "'common.yaml', which is not followed" in msgs[(6, "notice")]
    assert len(containers(pf)) == 5
    assert containers(pf)["a"].privileged is True


def test_a_long_extends_chain_does_not_exhaust_the_stack():
    lines = ["services:", "  s0:", "    image: a:1", "    privileged: true"]
    for i in range(1, 3000):
        lines += [f"  s{i}:", f"    extends: s{i - 1}"]
    pf = compose("\n".join(lines) + "\n")
    assert containers(pf)["s2999"].privileged is True and not pf.diagnostics


# -- wrong shapes --------------------------------------------------------------------------------

def test_services_as_a_list_is_a_diagnostic():
    pf = compose("services:\n  - image: nginx\n")
    (d,) = errors(pf)
    assert d.line == 1 and "services should be a mapping" in d.message and "a list" in d.message
    assert pf.resources == []


def test_bad_services_and_fields_are_diagnostics_and_the_rest_is_checked():
    pf = compose("""\
        services:
          text: nginx
          empty:
          web:
            image: nginx:1.27.2
            environment: "A=1"
            privileged: maybe
            cap_add: SYS_ADMIN
            ports: ["http:80"]
          ok:
            image: nginx:1.27.2
            privileged: true
        """)
    msgs = {d.line: (d.level, d.message) for d in pf.diagnostics}
    assert msgs[2][0] == "error" and "service 'text' should be a mapping, found the string 'nginx'" in msgs[2][1]
    assert msgs[3][0] == "warning" and "service 'empty' is empty" in msgs[3][1]
    assert "environment should be a mapping or a list" in msgs[6][1]
    assert "privileged should be a boolean" in msgs[7][1]
    assert "cap_add should be a list" in msgs[8][1]
    assert "no valid host port" in msgs[9][1]
    assert set(containers(pf)) == {"web", "ok"}
    assert containers(pf)["ok"].privileged is True


def test_a_compose_named_file_that_is_not_a_mapping():
    pf = compose("- a\n- b\n", path="docker-compose.yml")
    (d,) = errors(pf)
    assert d.line == 1 and "must be a mapping" in d.message


def test_files_without_services_are_quietly_nothing():
    pf = compose("volumes:\n  data: {}\nnetworks:\n  front: {}\n", path="compose.override.yml")
    assert pf.format == "compose" and pf.resources == [] and pf.diagnostics == []


def test_compose_v1_layout_is_read_with_a_notice():
    pf = compose("vpn:\n  build: .\n  net: host\n  cap_add: [NET_ADMIN]\n", path="docker-compose.yml")
    (d,) = pf.diagnostics
    assert d.level == "notice" and "format v1" in d.message
    w = workloads(pf)["vpn"]
    assert w.host_network is True and w.containers[0].capabilities_add == ["NET_ADMIN"]


# -- detection -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml",
                                  "docker-compose.prod.yml", "compose.override.yaml"])
def test_compose_file_names(name):
    assert compose("services:\n  web:\n    image: nginx:1\n", path=f"app/{name}").format == "compose"


def test_any_yaml_with_service_like_services_is_compose():
    pf = compose("services:\n  web:\n    image: nginx:1\n  worker:\n    extends: web\n", path="stack.yml")
    assert pf.format == "compose" and set(containers(pf)) == {"web", "worker"}


def test_yaml_with_a_services_key_that_is_not_compose_is_left_alone():
    pf = compose("services:\n  web:\n    port: 80\n", path="values.yaml")
    assert pf.resources == [] and pf.format != "compose"


def test_kubernetes_and_compose_do_not_claim_each_other():
    k8s = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: a:1}]\n"
    pf = compose(k8s, path="k8s/pod.yaml")
    assert pf.format == "kubernetes" and not of(pf, "workload")[0].kind == "ComposeService"
    # kompose output kept under a Compose-like name is still Kubernetes.
    pf = compose(k8s, path="docker-compose-k8s.yaml")
    assert pf.format == "kubernetes" and of(pf, "workload")[0].kind == "Pod"


# -- end to end through the checks ---------------------------------------------------------------

def test_findings_point_at_the_offending_keys(registry):
    pf = compose("""\
        services:
          web:
            image: nginx
            user: root
            environment:
              - API_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyz
            ports: ["8080:80"]
        """)
    got = {name: [(f.line, f.column) for f in findings(pf, registry, name)]
           for name in ("unpinned-image", "run-as-root", "plaintext-secret", "port-all-interfaces",
                        "privilege-escalation", "missing-network-policy")}
    assert got == {"unpinned-image": [(3, 5)], "run-as-root": [(4, 5)], "plaintext-secret": [(6, 9)],
                   "port-all-interfaces": [(7, 13)], "privilege-escalation": [(2, 3)],
                   "missing-network-policy": []}
