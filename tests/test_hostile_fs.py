"""Hostile file systems: loops, links out of the tree, unreadable files, FIFOs, devices, odd names.

Each case is scanned next to a good file with a known finding, which must still be reported.
"""
import errno
import os
import subprocess
import sys
import threading

import pytest

from test_hostile_input import GOOD, GOOD_LINE, diags, no_internal_errors, privileged_lines


def _scan(paths, tmp_path, monkeypatch, select=("privileged-container",)):
    from linter.engine.checks import load_registry
    from linter.scan import ScanOptions, scan, select_checks

    monkeypatch.chdir(tmp_path)
    checks = select_checks(load_registry(), list(select), None)
    result = scan(ScanOptions(paths=list(paths), checks=checks))
    no_internal_errors(result)
    return result


def _in_thread_with_timeout(fn, seconds=20):
    """Run fn in a thread; fail (rather than hang the suite) if it does not return in time."""
    box = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"no result after {seconds} s: something blocked (a FIFO opened for reading?)"
    if "error" in box:
        raise box["error"]
    return box["value"]


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD)
    return tmp_path


def test_symlink_loop_is_skipped_with_a_notice(tree, monkeypatch):
    os.symlink("loop2.yaml", tree / "loop1.yaml")
    os.symlink("loop1.yaml", tree / "loop2.yaml")
    os.makedirs(tree / "sub")
    os.symlink("..", tree / "sub" / "up")             # a directory loop
    result = _in_thread_with_timeout(lambda: _scan(["."], tree, monkeypatch))
    assert privileged_lines(result, "good.yaml") == [GOOD_LINE]
    for name in ("loop1.yaml", "loop2.yaml"):
        (d,) = diags(result, name)
        assert d.level == "notice" and "looping symlink" in d.message
    assert result.files_scanned == 1  # good.yaml once, not again through sub/up


def test_symlink_out_of_the_tree_is_not_followed(tree, tmp_path_factory, monkeypatch):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.yaml").write_text(GOOD)
    os.symlink(outside / "secret.yaml", tree / "linked.yaml")
    os.symlink(outside, tree / "linked-dir")
    result = _scan(["."], tree, monkeypatch)
    assert privileged_lines(result, "good.yaml") == [GOOD_LINE]
    for name in ("linked.yaml", "linked-dir"):
        (d,) = diags(result, name)
        assert d.level == "notice" and "outside the scanned tree" in d.message
    assert not any("secret" in f.path or "outside" in f.path for f in result.findings)


def test_symlink_inside_the_tree_is_scanned_once(tree, monkeypatch):
    os.symlink("good.yaml", tree / "alias.yaml")
    result = _scan(["."], tree, monkeypatch)
    assert len([f for f in result.findings if f.rule_name == "privileged-container"]) == 1


def _root_can_read_anything(path) -> bool:
    try:
        with open(path, "rb"):
            return True
    except PermissionError:
        return False


def test_unreadable_file_is_an_error_not_a_crash(tree, monkeypatch):
    bad = tree / "locked.yaml"
    bad.write_text(GOOD)
    bad.chmod(0)
    try:
        if _root_can_read_anything(bad):
            pytest.skip("running as root (CI containers): chmod 000 does not stop reading; "
                        "test_unreadable_file_simulated covers the code path")
        result = _scan(["."], tree, monkeypatch)
    finally:
        bad.chmod(0o644)
    (d,) = diags(result, "locked.yaml")
    assert d.level == "error" and "permission denied" in d.message
    assert privileged_lines(result, "good.yaml") == [GOOD_LINE]


def test_unreadable_file_simulated(tree, monkeypatch):
    """The same as above where root can read everything: the read layer's os.open refuses."""
    (tree / "locked.yaml").write_text(GOOD)
    real_open = os.open

    def refusing_open(path, flags, *args, **kw):
        if os.fspath(path).endswith("locked.yaml"):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, *args, **kw)

    monkeypatch.setattr(os, "open", refusing_open)
    result = _scan(["."], tree, monkeypatch)
    (d,) = diags(result, "locked.yaml")
    assert d.level == "error" and "permission denied" in d.message
    assert privileged_lines(result, "good.yaml") == [GOOD_LINE]


def test_unreadable_directory_is_reported(tree, monkeypatch):
    sub = tree / "private"
    sub.mkdir()
    real_scandir = os.scandir

    def refusing_scandir(path="."):
        if os.fspath(path).endswith("private"):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", refusing_scandir)
    result = _scan(["."], tree, monkeypatch)
    (d,) = diags(result, "private")
    assert d.level == "error" and "permission denied" in d.message
    assert privileged_lines(result, "good.yaml") == [GOOD_LINE]


def test_directory_named_dockerfile_is_walked(tree, monkeypatch):
    (tree / "Dockerfile").mkdir()
    (tree / "Dockerfile" / "pod.yaml").write_text(GOOD)
    result = _scan(["."], tree, monkeypatch)
    assert privileged_lines(result, "Dockerfile/pod.yaml") == [GOOD_LINE]
    assert privileged_lines(result, "good.yaml") == [GOOD_LINE]
    assert diags(result, "Dockerfile") == []


def test_missing_path_exits_2_with_a_message(tree):
    proc = subprocess.run([sys.executable, "-m", "linter", "scan", "good.yaml", "no/such/dir"], cwd=tree,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "path does not exist: no/such/dir" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("name", ["fifo.yaml", "Dockerfile"])
def test_fifo_in_a_tree_is_never_opened(tree, monkeypatch, name):
    os.mkfifo(tree / name)
    # Opening a FIFO for reading blocks until a writer appears: a hang here means it was opened.
    result = _in_thread_with_timeout(lambda: _scan(["."], tree, monkeypatch))
    (d,) = diags(result, name)
    assert d.level == "notice" and "not a regular file" in d.message
    assert privileged_lines(result, "good.yaml") == [GOOD_LINE]


def test_fifo_named_explicitly_is_never_opened(tree, monkeypatch):
    os.mkfifo(tree / "pipe.yaml")
    result = _in_thread_with_timeout(lambda: _scan(["pipe.yaml", "good.yaml"], tree, monkeypatch))
    (d,) = diags(result, "pipe.yaml")
    assert d.level == "notice" and "not a regular file" in d.message
    assert privileged_lines(result, "good.yaml") == [GOOD_LINE]


def test_file_swapped_for_a_fifo_after_discovery_does_not_block(tmp_path):
    from linter.discover import Candidate
    from linter.scan import read_and_parse

    os.mkfifo(tmp_path / "swapped.yaml")
    pf = _in_thread_with_timeout(lambda: read_and_parse(Candidate(str(tmp_path / "swapped.yaml"), "yaml", 10),
                                                        1 << 20))
    (d,) = pf.diagnostics
    assert d.level == "notice" and "not a regular file" in d.message


def test_device_named_explicitly_is_skipped(tree, monkeypatch):
    """Decision: /dev/null (or any device) named on the command line is not read -- a device can
    be endless (/dev/zero) or block (/dev/tty); it gets a notice and counts for nothing."""
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    result = _in_thread_with_timeout(lambda: _scan(["/dev/null", "/dev/zero", "good.yaml"], tree, monkeypatch))
    for dev in ("/dev/null", "/dev/zero"):
        (d,) = diags(result, dev)
        assert d.level == "notice" and "not a regular file" in d.message
    assert result.files_scanned == 1
    assert privileged_lines(result, "good.yaml") == [GOOD_LINE]


def test_file_name_that_is_not_utf8_still_gets_a_report(tree):
    name = b"bad\xff.yaml"
    with open(os.path.join(os.fsencode(tree), name), "w") as fh:
        fh.write(GOOD)
    env = dict(os.environ, PYTHONIOENCODING="utf-8:strict", LC_ALL="C.UTF-8")
    for fmt in ("text", "json"):
        proc = subprocess.run([sys.executable, "-m", "linter", "scan", "-f", fmt, "--select", "privileged-container",
                               "."], cwd=tree, capture_output=True, env=env, timeout=60)
        assert proc.returncode == 1, proc.stderr
        out = proc.stdout.decode("utf-8")  # valid UTF-8 whatever the file names
        assert "bad\\udcff.yaml" in out and "good.yaml" in out
    proc = subprocess.run([sys.executable, "-m", "linter", "scan", "-f", "json:out.json", "."], cwd=tree,
                          capture_output=True, env=env, timeout=60)
    assert proc.returncode == 1, proc.stderr
    import json

    paths = {f["path"] for f in json.loads((tree / "out.json").read_text(encoding="utf-8"))["findings"]}
    assert "bad\udcff.yaml" in paths  # the JSON escape round-trips to the name Python uses
