"""Inline suppressions in Terraform: ``#``, ``//`` and ``/* */`` comments; the block is the resource
scope.  Written against realistic input before the Terraform parser landed: skipped until
linter.parsers.terraform exists."""
from __future__ import annotations

import datetime
import textwrap

import pytest

pytest.importorskip("linter.parsers.terraform")

META = ["suppression-without-reason", "unused-suppression", "expired-suppression", "invalid-suppression"]


@pytest.fixture
def run(tmp_path, registry):
    from linter.scan import ScanOptions, scan, select_checks
    from linter.suppress import SuppressOptions

    def go(text: str, select, today=datetime.date(2026, 6, 1)):
        (tmp_path / "main.tf").write_text(textwrap.dedent(text))
        return scan(ScanOptions(paths=[str(tmp_path)], checks=select_checks(registry, select + META, None),
                                suppress=SuppressOptions(registry=registry, today=today)))

    return go


def of(result, check, suppressed=None):
    out = [f for f in result.findings if check in (f.rule_id, f.rule_name)]
    if suppressed is not None:
        out = [f for f in out if (f.suppression is not None) == suppressed]
    return out


MAIN_TF = """\
# iaclint: ignore[privileged-container, missing-resource-limits] -- CNI plugin, limits set by the node agent
resource "docker_container" "cni" {
  name       = "cni"
  image      = "registry.example.com/cni:1.2.0"
  privileged = true
}

resource "docker_container" "web" {
  name       = "web"
  image      = "registry.example.com/web:1.0.0"
  memory     = 512
  privileged = true // iaclint: ignore[privileged-container] -- needs /dev/fuse
}

resource "docker_container" "db" {
  name       = "db"
  image      = "registry.example.com/db:1.0.0"
  memory     = 512
  privileged = true /* iaclint: ignore[IAC102] */
}

resource "docker_container" "api" {
  name       = "api"
  image      = "registry.example.com/api:1.0.0"
  privileged = true
}
"""


def _block(f) -> str:
    # docker_container.<name> appears in the resource identity whatever its exact shape
    for name in ("cni", "web", "db", "api"):
        if f"docker_container.{name}" in (f.resource or "") or f"docker_container/{name}" in (f.resource or ""):
            return name
    return f.resource


def test_block_scope_line_scope_and_every_comment_syntax(run):
    r = run(MAIN_TF, ["privileged-container", "missing-resource-limits"])
    priv = {_block(f): f.suppression is not None for f in of(r, "privileged-container")}
    assert priv == {"cni": True, "web": True, "db": True, "api": False}
    limits = {_block(f): f.suppression is not None for f in of(r, "missing-resource-limits")}
    assert limits.get("cni") is True and limits.get("api") is False   # "missing" points at the block
    [n] = of(r, "suppression-without-reason")
    assert n.line == 19                         # the /* */ comment gives no reason
    assert not of(r, "unused-suppression") and not of(r, "invalid-suppression")


def test_block_comment_ignore_file(run):
    r = run("/* iaclint: ignore-file[privileged-container] -- lab environment */\n" + MAIN_TF,
            ["privileged-container"])
    assert all(f.suppression is not None for f in of(r, "privileged-container"))
    assert {f.suppression.scope for f in of(r, "privileged-container") if _block(f) == "api"} == {"file"}


def test_hash_in_a_string_is_not_a_comment(run):
    text = MAIN_TF.replace('name       = "api"', 'name       = "api # iaclint: ignore[privileged-container]"')
    r = run(text, ["privileged-container"])
    assert [f for f in of(r, "privileged-container", suppressed=False) if _block(f) == "api"]
