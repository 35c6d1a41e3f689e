"""Catalogue checks whose behaviour depends on a parameter, run with a configured value (the
annotated fixtures run every check with its defaults)."""
from linter.engine.checks import Check


def _with_params(registry, name, params):
    c = registry.get(name)
    return Check(c.raw, c.source, c.builtin, params)


def _scan(tmp_path, files, check):
    from linter.scan import ScanOptions, scan

    for rel, text in files.items():
        (tmp_path / rel).write_text(text)
    return scan(ScanOptions(paths=[str(tmp_path)], checks=[check])).findings


POD = """\
apiVersion: v1
kind: Pod
metadata: {name: mixed, namespace: shop}
spec:
  containers:
    - name: hub
      image: nginx:1.27.2
    - name: mirror
      image: registry.acme.io/mirror/nginx:1.27.2
    - name: hub-explicit
      image: docker.io/library/redis:7.2.5
    - name: ghcr
      image: ghcr.io/acme/tool:1.0.0
"""


def test_untrusted_registry_with_a_trusted_list(tmp_path, registry):
    check = _with_params(registry, "untrusted-registry", {"trusted-registries": ["registry.acme.io", "ghcr.io"]})
    found = _scan(tmp_path, {"pod.yaml": POD}, check)
    # Docker Hub references count as docker.io, written out or not
    assert sorted(f.line for f in found) == [7, 11]
    assert all("docker.io" in f.message for f in found)


def test_untrusted_registry_trusting_docker_hub(tmp_path, registry):
    check = _with_params(registry, "untrusted-registry",
                         {"trusted-registries": ["docker.io", "registry.acme.io", "ghcr.io"]})
    assert _scan(tmp_path, {"pod.yaml": POD}, check) == []


USERS = """\
apiVersion: v1
kind: Pod
metadata: {name: users, namespace: shop}
spec:
  containers:
    - name: a
      image: registry.example.com/a:1.0.0
      securityContext: {runAsUser: 1000}
    - name: b
      image: registry.example.com/b:1.0.0
      securityContext: {runAsUser: 5000}
"""


def test_low_user_id_threshold(tmp_path, registry):
    default = _scan(tmp_path, {"pod.yaml": USERS}, registry.get("low-user-id"))
    assert sorted(f.line for f in default) == [8, 11]
    lowered = _scan(tmp_path, {"pod.yaml": USERS}, _with_params(registry, "low-user-id", {"min-id": 2000}))
    assert [f.line for f in lowered] == [8]


def test_selinux_allowed_types(tmp_path, registry):
    pod = USERS.replace("{runAsUser: 1000}", "{seLinuxOptions: {type: spc_t}}")
    assert [f.line for f in _scan(tmp_path, {"pod.yaml": pod}, registry.get("selinux-custom-options"))] == [8]
    check = _with_params(registry, "selinux-custom-options", {"allowed-types": ["container_t", "spc_t"]})
    assert _scan(tmp_path, {"pod.yaml": pod}, check) == []


def test_unsafe_sysctls_allow_list(tmp_path, registry):
    pod = USERS.replace("spec:\n", "spec:\n  securityContext:\n    sysctls: [{name: net.core.somaxconn, value: '1024'}]\n")
    assert len(_scan(tmp_path, {"pod.yaml": pod}, registry.get("unsafe-sysctls"))) == 1
    safe = registry.get("unsafe-sysctls").params["safe-sysctls"] + ["net.core.somaxconn"]
    assert _scan(tmp_path, {"pod.yaml": pod}, _with_params(registry, "unsafe-sysctls", {"safe-sysctls": safe})) == []
