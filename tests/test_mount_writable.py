"""Mount.writable: a pod volume's readOnly lives on each container's volumeMount."""
from linter.model import UNKNOWN
from linter.parsers import yamlfile

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: ops}
spec:
  containers:
    - name: a
      image: registry.example.com/a:1.0.0
      volumeMounts:
        - {name: logs, mountPath: /var/log, readOnly: true}
        - {name: proc, mountPath: /host/proc, readOnly: true}
    - name: b
      image: registry.example.com/b:1.0.0
      volumeMounts:
        - {name: logs, mountPath: /logs}
        - {name: proc, mountPath: /host/proc, readOnly: true}
  volumes:
    - {name: logs, hostPath: {path: /var/log}}
    - {name: proc, hostPath: {path: /proc}}
    - {name: unused, hostPath: {path: /sys}}
"""


def _mounts(path, text):
    pf = yamlfile.parse(path, text)
    return {m.host_path: m for m in pf.of_type("mount")}


def test_pod_volume_is_writable_when_any_container_mounts_it_writable():
    m = _mounts("pod.yaml", POD)
    assert m["/var/log"].writable is True     # b mounts it without readOnly
    assert m["/proc"].writable is False       # every container mounts it readOnly
    assert m["/sys"].writable is False        # no container mounts it at all


def test_compose_bind_mount_uses_its_own_mode():
    m = _mounts("compose.yaml", "services:\n  a:\n    image: registry.example.com/a:1.0.0\n    volumes:\n"
                                "      - /proc:/host/proc:ro\n      - /sys:/host/sys\n")
    assert m["/proc"].writable is False
    assert m["/sys"].writable is True


def test_unresolved_mode_is_unknown():
    m = _mounts("compose.yaml", "services:\n  a:\n    image: registry.example.com/a:1.0.0\n    volumes:\n"
                                "      - /sys:/host/sys:${MODE}\n")
    assert m["/sys"].writable is UNKNOWN
