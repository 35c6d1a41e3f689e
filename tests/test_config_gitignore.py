"""The gitignore matcher behind `gitignore: true`, `exclude` and `per-path-ignores` (gitignore(5))."""
from __future__ import annotations

import pytest

from linter.gitignore import GitIgnore, PatternSet, parse_lines


@pytest.mark.parametrize("pattern,path,is_dir,ignored", [
    ("*.log", "a.log", False, True),
    ("*.log", "deep/er/a.log", False, True),          # no slash: any depth
    ("*.log", "a.log.txt", False, False),
    ("/build", "build", True, True),                  # leading slash: anchored
    ("/build", "src/build", True, False),
    ("build/", "src/build", True, True),              # trailing slash only: any depth, directories only
    ("build/", "build", False, False),
    ("doc/frotz", "doc/frotz", True, True),           # a middle slash anchors
    ("doc/frotz", "a/doc/frotz", True, False),
    ("**/foo", "foo", False, True),
    ("**/foo", "a/b/foo", False, True),
    ("**/foo/bar", "x/foo/bar", False, True),
    ("abc/**", "abc/x/y", False, True),
    ("abc/**", "abc", True, False),
    ("a/**/b", "a/b", False, True),
    ("a/**/b", "a/x/y/b", False, True),
    ("foo*bar", "foo/bar", False, False),            # * does not cross /
    ("?.yaml", "a.yaml", False, True),
    ("?.yaml", "ab.yaml", False, False),
    ("[abc].yaml", "b.yaml", False, True),
    ("[!abc].yaml", "b.yaml", False, False),
    ("\\#notes", "#notes", False, True),             # escaped hash is a pattern, not a comment
    ("\\!important", "!important", False, True),
])
def test_patterns(pattern, path, is_dir, ignored):
    assert PatternSet("/", parse_lines([pattern])).matches(path, is_dir) is ignored


def test_comments_blank_lines_trailing_spaces_and_negation():
    ps = PatternSet("/", parse_lines(["# a comment", "", "*.log   ", "!keep.log", "trail\\ "]))
    assert [p.text for p in ps.patterns] == ["*.log", "!keep.log", "trail\\ "]
    assert ps.matches("x.log") and not ps.matches("keep.log")
    assert ps.matches("trail ")


def test_nested_gitignore_files_and_info_exclude(tmp_path):
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("*.secret\n")
    (tmp_path / ".gitignore").write_text("*.gen.yaml\n/out/\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".gitignore").write_text("!keep.gen.yaml\nlocal/\n/only-here.yaml\n")
    ig = GitIgnore(str(tmp_path))
    assert ig(str(tmp_path / "a.gen.yaml"), False)
    assert not ig(str(tmp_path / "sub" / "keep.gen.yaml"), False)     # the deeper file re-includes
    assert ig(str(tmp_path / "sub" / "other.gen.yaml"), False)
    assert ig(str(tmp_path / "out"), True) and not ig(str(tmp_path / "sub" / "out"), True)
    assert ig(str(tmp_path / "sub" / "local"), True)
    assert ig(str(tmp_path / "sub" / "only-here.yaml"), False)
    assert not ig(str(tmp_path / "sub" / "x" / "only-here.yaml"), False)  # anchored to sub/
    assert ig(str(tmp_path / "k.secret"), False)
    assert not ig("/elsewhere/a.gen.yaml", False)                          # outside the repository


def test_per_path_globs_cover_files_below_a_directory_pattern():
    ps = PatternSet("/", parse_lines(["legacy/"]))
    assert ps.matches_path("legacy/a/b.yaml") and ps.matches_path("apps/legacy/x.yaml")
    assert not ps.matches_path("legacy.yaml")
