"""Inline suppressions in Docker Compose files: the service is the resource scope."""
from __future__ import annotations

import datetime
import textwrap

import pytest

pytest.importorskip("linter.parsers.compose")

META = ["suppression-without-reason", "unused-suppression", "expired-suppression", "invalid-suppression"]


@pytest.fixture
def run(tmp_path, registry):
    from linter.scan import ScanOptions, scan, select_checks
    from linter.suppress import SuppressOptions

    def go(text: str, select, today=datetime.date(2026, 6, 1), name="compose.yaml"):
        (tmp_path / name).write_text(textwrap.dedent(text))
        return scan(ScanOptions(paths=[str(tmp_path)], checks=select_checks(registry, select + META, None),
                                suppress=SuppressOptions(registry=registry, today=today)))

    return go


def of(result, check, suppressed=None):
    out = [f for f in result.findings if check in (f.rule_id, f.rule_name)]
    if suppressed is not None:
        out = [f for f in out if (f.suppression is not None) == suppressed]
    return out


COMPOSE = """\
services:
  # iaclint: ignore[missing-resource-limits, privileged-container, unpinned-image] -- dev-only proxy
  web:
    image: nginx:latest
    privileged: true
    user: root

  db:
    image: postgres:latest
    privileged: true  # iaclint: ignore[IAC102] -- needs hugepages
    environment:
      POSTGRES_PASSWORD: "hunter2hunter2 # iaclint: ignore[plaintext-secret]"
"""


def test_service_scope_covers_missing_things_and_children_but_not_the_next_service(run):
    r = run(COMPOSE, ["missing-resource-limits", "privileged-container", "unpinned-image", "run-as-root"])
    sup = {(f.rule_name, f.line) for f in r.findings if f.suppression is not None}
    assert sup == {("missing-resource-limits", 3),   # "no limits" points at the service's first line
                   ("unpinned-image", 4), ("privileged-container", 5),
                   ("privileged-container", 10)}     # db: its own trailing comment
    assert {f.line for f in of(r, "missing-resource-limits", suppressed=False)} == {8}
    assert {f.line for f in of(r, "unpinned-image", suppressed=False)} == {9}
    assert of(r, "run-as-root", suppressed=False)          # not named by the comment
    assert not [f for f in r.findings if f.rule_name in META]


def test_marker_inside_a_quoted_value_is_not_a_comment(run):
    r = run(COMPOSE, ["plaintext-secret"])
    [f] = of(r, "plaintext-secret")
    assert f.suppression is None


def test_ignore_file_reason_and_unused(run):
    text = COMPOSE + "# iaclint: ignore-file[plaintext-secret, host-namespaces]\n"
    r = run(text, ["plaintext-secret", "host-namespaces"])
    assert of(r, "plaintext-secret", suppressed=True)[0].suppression.scope == "file"
    [u] = of(r, "unused-suppression")
    assert u.line == 13 and "host-namespaces" in u.message and "plaintext-secret" not in u.message
    [n] = of(r, "suppression-without-reason")
    assert n.line == 13


def test_expired_comment_stops_suppressing(run):
    text = COMPOSE.replace("# iaclint: ignore[IAC102] -- needs hugepages",
                           "# iaclint: ignore[IAC102] until=2026-05-31 -- needs hugepages")
    r = run(text, ["privileged-container"])
    assert {f.line for f in of(r, "privileged-container", suppressed=False)} == {10}
    [e] = of(r, "expired-suppression")
    assert e.line == 10 and "2026-05-31" in e.message
