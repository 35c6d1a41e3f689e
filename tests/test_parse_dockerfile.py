"""Dockerfile parser: what it catches and what it must not catch.

Each test is a tiny Dockerfile; line numbers in the assertions are counted in the string."""
from __future__ import annotations

import os

import pytest

from linter.model import UNKNOWN, Location
from linter.parsers.dockerfile import parse

P = "sub/Dockerfile"


def df(text: str):
    pf = parse(P, text)
    assert not [d for d in pf.diagnostics if "internal error" in d.message], pf.diagnostics
    return pf


def container(pf):
    (ct,) = pf.of_type("container")
    return ct


def images(pf):
    return list(pf.of_type("image"))


def instr(pf, keyword, n=0):
    return [r for r in pf.of_type("instruction") if r.keyword == keyword][n]


def settings(pf, context=None):
    return {s.name: s for s in pf.of_type("setting") if context is None or s.context == context}


def messages(pf, level=None):
    return [d.message for d in pf.diagnostics if level is None or d.level == level]


# -- stages, users, images -------------------------------------------------------------------

def test_user_only_in_builder_stage_does_not_count_for_final_image():
    pf = df("FROM golang:1.22 AS builder\n"
            "USER app\n"
            "RUN go build\n"
            "FROM alpine:3.20\n"
            "COPY --from=builder /out /out\n")
    ct = container(pf)
    assert ct.user is None
    assert ct.runs_as_root is True
    assert ct.root_by_default is True
    assert ct.name == "stage 1"
    assert ct.ident == "Dockerfile:image"
    assert ct.loc.line == 4
    assert ct.image.reference == "alpine:3.20"
    assert [s["name"] for s in ct.stages] == ["builder", None]
    assert ct.end_line == 5
    assert messages(pf) == []


def test_final_stage_from_earlier_stage_inherits_its_user():
    pf = df("FROM python:3.12-slim AS base\n"
            "USER 10001\n"
            "FROM base AS final\n"
            "CMD [\"python\"]\n")
    ct = container(pf)
    assert ct.user == "10001"
    assert ct.locs["user"].line == 2
    assert ct.image is None  # the final FROM names a stage, not an image
    assert ct.base_image.reference == "python:3.12-slim"
    assert ct.name == "final"
    assert ct.runs_as_root is False
    # only one Image: "FROM base" is not an image pull
    assert [i.reference for i in images(pf)] == ["python:3.12-slim"]


def test_user_in_final_stage_overrides_inherited_one_and_stage_names_ignore_case():
    pf = df("FROM debian:12 AS Base\n"
            "USER app\n"
            "FROM BASE\n"
            "USER root\n")
    ct = container(pf)
    assert ct.user == "root"
    assert ct.locs["user"] == Location(P, 4, 6, 4, 10)
    assert len(images(pf)) == 1


def test_from_scratch_is_not_an_image_and_user_counts():
    pf = df("FROM golang:1.22 AS build\nFROM scratch\nUSER 65532:65532\n")
    ct = container(pf)
    assert ct.image is None and ct.base_image is None
    assert ct.user == "65532:65532"
    assert [i.reference for i in images(pf)] == ["golang:1.22"]
    assert ct.stages[1]["scratch"] is True


def test_user_before_a_later_unrelated_stage_does_not_leak():
    pf = df("FROM a:1 AS one\nUSER app\nFROM b:1 AS two\n")
    assert container(pf).user is None


def test_user_variable_is_resolved_or_unknown():
    pf = df("FROM alpine:3.20\nARG UID=1000\nUSER ${UID}\n")
    assert container(pf).user == "1000"
    pf = df("FROM alpine:3.20\nUSER $APP_UID\n")  # may come from the base image's ENV
    assert container(pf).user is UNKNOWN


def test_image_location_and_ident():
    pf = df("FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM gcr.io/distroless/static\n")
    first, second = images(pf)
    assert first.reference == "golang:1.22"
    assert first.tag == "1.22" and first.registry is None
    assert first.context == "from"
    assert first.ident == "Dockerfile:stage[0]/build/image"
    assert first.loc == Location(P, 1, 32, 1, 43)
    assert second.ident == "Dockerfile:stage[1]/image"
    assert container(pf).stages[0]["platform"] == "$BUILDPLATFORM"
    assert messages(pf) == []  # BUILDPLATFORM is predefined: no "undeclared" notice


def test_registry_with_port_has_no_tag():
    (img,) = images(df("FROM registry:5000/app\n"))
    assert (img.registry, img.repository, img.tag, img.digest) == ("registry:5000", "app", None, None)
    assert img.mutable_tag is True


def test_digest_reference():
    ref = "python:3.12@sha256:" + "a" * 64
    (img,) = images(df(f"FROM {ref} AS x\n"))
    assert img.reference == ref
    assert img.tag == "3.12" and img.digest == "sha256:" + "a" * 64
    assert img.has_digest is True and img.mutable_tag is False


def test_from_on_a_continuation_line_points_at_the_image_token():
    (img,) = images(df("FROM \\\n    alpine:3.20 \\\n    AS base\n"))
    assert img.loc == Location(P, 2, 5, 2, 16)


# -- ARG substitution in FROM ---------------------------------------------------------------

@pytest.mark.parametrize("args, ref, expected", [
    ("ARG PY=3.12\n", "python:${PY}-slim", "python:3.12-slim"),
    ("ARG PY=3.12\n", "python:$PY", "python:3.12"),
    ("ARG BASE=alpine:3.20\n", "$BASE", "alpine:3.20"),
    ("ARG PY=\"3.11\"\n", "python:${PY}", "python:3.11"),
    ("", "python:${PY:-3.12}", "python:3.12"),
    ("ARG PY\n", "python:${PY:-3.12}", "python:3.12"),
    ("ARG PY=3.11\n", "python:${PY:-3.12}", "python:3.11"),
    ("ARG PY=\n", "python:${PY:-3.12}", "python:3.12"),      # ":-" also replaces an empty value
    ("ARG PY=\n", "python${PY-:3.12}", "python"),            # "-" replaces only an unset one
    ("ARG PY\n", "python${PY-:3.12}", "python:3.12"),
    ("ARG SLIM=1\n", "python:3.12${SLIM:+-slim}", "python:3.12-slim"),
    ("ARG SLIM=\n", "python:3.12${SLIM:+-slim}", "python:3.12"),
    ("ARG A=3\nARG B=${A}.12\n", "python:$B", "python:3.12"),
    ("ARG REG=\n", "${REG}nginx:1.27", "nginx:1.27"),        # an empty registry prefix is valid
])
def test_global_args_are_substituted_into_from(args, ref, expected):
    (img,) = images(df(f"{args}FROM {ref}\n"))
    assert img.reference == expected


@pytest.mark.parametrize("args, ref", [
    ("ARG BASE\n", "$BASE"),                           # declared, no default: never a guess
    ("ARG PY\n", "python:${PY}-slim"),
    ("", "$NOT_DECLARED"),
    ("", "golang:1.22-${TARGETARCH}"),                 # depends on the build machine
    ("ARG V=\n", "mcr.microsoft.com/windows/servercore:${V}"),  # "servercore:" cannot be built
    ("ARG V=1\n", "img:${V#1}"),                       # pattern operators are not emulated
])
def test_unresolvable_from_is_unknown(args, ref):
    (img,) = images(df(f"{args}FROM {ref}\n"))
    assert img.reference is UNKNOWN
    assert img.tag is UNKNOWN and img.mutable_tag is UNKNOWN


def test_undeclared_variable_in_from_is_a_notice():
    pf = df("FROM $BASE\n")
    assert messages(pf, "notice") == ["FROM uses $BASE, which no ARG before the first FROM declares"]
    assert messages(pf, "error") == []


def test_stage_arg_does_not_reach_later_from():
    pf = df("FROM alpine:3.20 AS a\nARG TAG=1\nFROM busybox:$TAG\n")
    assert images(pf)[1].reference is UNKNOWN


def test_from_variable_naming_a_stage_is_that_stage():
    pf = df("ARG STAGE=build\nFROM golang:1.22 AS build\nUSER app\nFROM ${STAGE}\n")
    assert len(images(pf)) == 1
    assert container(pf).user == "app"


# -- heredocs ---------------------------------------------------------------------------------

def test_heredoc_with_comment_first_line_is_one_instruction():
    pf = df("# syntax=docker/dockerfile:1.4\n"
            "FROM alpine:3.20\n"
            "RUN <<EOF\n"
            "# install git\n"
            "apk update\n"
            "apk add git\n"
            "EOF\n"
            "\n"
            "# a comment after the heredoc\n"
            "USER nobody\n")
    kws = [r.keyword for r in pf.of_type("instruction")]
    assert kws == ["FROM", "RUN", "USER"]  # no bogus APK/EOF instructions from the body
    run = instr(pf, "RUN")
    assert run.value == "<<EOF\n# install git\napk update\napk add git\nEOF"
    assert (run.loc.line, run.loc.column, run.loc.end_line) == (3, 1, 7)
    assert run.heredocs == [{"name": "EOF", "body": "# install git\napk update\napk add git\n", "line": 4,
                             "chomp": False, "expand": True}]
    assert container(pf).user == "nobody"
    assert container(pf).syntax == "docker/dockerfile:1.4"
    assert messages(pf) == []


def test_heredoc_body_lines_that_look_like_instructions_are_not_instructions():
    pf = df("FROM alpine:3.20\nRUN <<EOT bash\n  USER root\n  ENV TOKEN=abc\nEOT\n")
    assert [r.keyword for r in pf.of_type("instruction")] == ["FROM", "RUN"]
    assert container(pf).user is None
    assert settings(pf) == {}


def test_heredoc_variants_chomp_quoted_multiple_and_copy():
    pf = df("FROM alpine:3.20\n"
            "RUN <<-\"A\" sh && <<'B' sh\n"
            "\techo $HOME\n"
            "\tA\n"
            "echo two\n"
            "B\n"
            "COPY <<EOF /etc/app.conf\n"
            "key=value\n"
            "EOF\n"
            "EXPOSE 80\n")
    run = instr(pf, "RUN")
    assert [(h["name"], h["chomp"], h["expand"], h["line"]) for h in run.heredocs] == [
        ("A", True, False, 3), ("B", False, False, 5)]
    assert run.loc.end_line == 6
    copy = instr(pf, "COPY")
    assert copy.value == "<<EOF /etc/app.conf\nkey=value\nEOF"
    assert (copy.loc.line, copy.loc.end_line) == (7, 9)
    assert container(pf).host_ports == [80]
    assert messages(pf) == []


def test_heredoc_needs_run_copy_or_add_and_shell_form():
    pf = df("FROM alpine:3.20\n"
            "RUN [\"sh\", \"-c\", \"cat <<EOF\"]\n"
            "CMD cat <<EOF\n"
            "USER app\n")
    assert [r.keyword for r in pf.of_type("instruction")] == ["FROM", "RUN", "CMD", "USER"]
    assert container(pf).user == "app"


def test_unterminated_heredoc_is_an_error_at_its_start():
    pf = df("FROM alpine:3.20\n\nRUN <<EOF\necho hi\nUSER app\n")
    assert [(d.line, d.level) for d in pf.diagnostics] == [(3, "error")]
    assert "unterminated heredoc <<EOF" in pf.diagnostics[0].message
    assert container(pf).user is None  # swallowed by the body, as BuildKit would read it


def test_here_string_and_shift_are_not_heredocs():
    pf = df("FROM alpine:3.20\nRUN cat <<<\"x\" && echo $((1<<3))\nUSER app\n")
    assert [r.keyword for r in pf.of_type("instruction")] == ["FROM", "RUN", "USER"]
    assert messages(pf) == []


# -- continuations, directives, line endings --------------------------------------------------

def test_env_keys_on_continuation_lines_have_exact_positions():
    pf = df("FROM alpine:3.20\n"
            "ENV A=1 \\\n"
            "    # a comment inside the continuation\n"
            "    TOKEN=\"s3cr et\" \\\n"
            "    REF=$A\n")
    s = settings(pf, "env")
    assert s["A"].loc == Location(P, 2, 5, 2, 8)
    assert s["TOKEN"].loc == Location(P, 4, 5, 4, 20)
    assert s["TOKEN"].value == "s3cr et"
    assert s["REF"].loc.line == 5 and s["REF"].loc.column == 5
    env = instr(pf, "ENV")
    assert (env.loc.line, env.loc.end_line) == (2, 5)
    assert env.end_line == 5
    assert [x.name for x in container(pf).env] == ["A", "TOKEN", "REF"]


def test_blank_line_inside_continuation_is_joined_with_a_notice():
    pf = df("FROM alpine:3.20\nRUN apk add \\\n\n    curl\nUSER app\n")
    run = instr(pf, "RUN")
    assert run.value == "apk add     curl"
    assert (run.loc.line, run.loc.end_line) == (2, 4)
    assert [(d.line, d.level) for d in pf.diagnostics] == [(3, "notice")]
    assert container(pf).user == "app"


def test_trailing_backslash_on_last_line_keeps_the_instruction():
    pf = df("FROM alpine:3.20\nUSER app \\\n")
    assert container(pf).user == "app"
    assert [(d.line, d.level) for d in pf.diagnostics] == [(2, "notice")]
    pf = df("FROM alpine:3.20\nRUN echo a \\\n    && echo b \\")  # no final newline either
    assert instr(pf, "RUN").value == "echo a     && echo b"


def test_escape_directive_backtick():
    pf = df("# escape=`\n"
            "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\n"
            "ENV APPDIR=C:\\app `\n"
            "    LOG=C:\\logs\n"
            "RUN dir C:\\ `\n"
            "    && echo done\n")
    s = settings(pf, "env")
    assert s["APPDIR"].value == "C:\\app"  # a backslash is an ordinary character now
    assert s["LOG"].loc.line == 4
    run = instr(pf, "RUN")
    assert (run.loc.line, run.loc.end_line) == (5, 6)
    assert run.value == "dir C:\\     && echo done"
    assert messages(pf) == []


def test_escape_directive_after_a_comment_is_just_a_comment():
    pf = df("# hello\n# escape=`\nFROM alpine:3.20\nRUN echo `\nUSER app\n")
    assert container(pf).user == "app"  # the backtick did not continue the line


def test_crlf_line_numbers():
    pf = df("FROM alpine:3.20\r\n\r\nENV A=1 \\\r\n    B=2\r\nUSER app\r\n")
    s = settings(pf)
    assert (s["A"].loc.line, s["B"].loc.line, s["B"].loc.column) == (3, 4, 5)
    assert s["B"].value == "2"
    assert container(pf).user == "app"
    assert container(pf).locs["user"].line == 5
    assert messages(pf) == []


def test_lowercase_keywords_and_indentation():
    pf = df("from alpine:3.20 as base\n  user app\n")
    assert container(pf).user == "app"
    assert container(pf).name == "base"
    assert instr(pf, "USER").loc.column == 3


# -- ENV and ARG settings ---------------------------------------------------------------------

def test_legacy_env_form_takes_the_rest_of_the_line():
    pf = df("FROM alpine:3.20\nENV GREETING hello big world\nENV Q \"quoted value\"\n")
    s = settings(pf, "env")
    assert s["GREETING"].value == "hello big world"
    assert s["GREETING"].loc == Location(P, 2, 5, 2, 29)
    assert s["Q"].value == "quoted value"


@pytest.mark.parametrize("raw, value, from_ref", [
    ("plain", "plain", False),
    ("\"a b\"", "a b", False),
    ("'x'", "x", False),
    ("a\\ b", "a b", False),
    ("'$NOT_A_REF'", "$NOT_A_REF", False),
    ("$X", None, True),
    ("${X}", None, True),
    ("\"${X}\"", None, True),
    ("${X:-}", None, True),
    ("${X:+on}", None, True),
    ("${X:?required}", None, True),
    ("${X:-changeme}", "changeme", False),   # a literal fallback is still in the repository
    ("prefix-$X", "prefix-$X", False),
    ("", "", False),
])
def test_setting_values(raw, value, from_ref):
    s = settings(df(f"FROM alpine:3.20\nENV V={raw}\n"))["V"]
    assert (s.value, s.from_reference) == (value, from_ref)
    assert s.context == "env"


def test_args_with_defaults_are_settings_in_every_stage():
    pf = df("ARG VERSION=1.0\n"
            "ARG NODEFAULT\n"
            "FROM node:20 AS builder\n"
            "ARG NPM_TOKEN=abc123\n"
            "ENV API_KEY=sk_live_1234\n"
            "FROM node:20-slim\n"
            "ENV NODE_ENV=production\n")
    s = settings(pf)
    assert set(s) == {"VERSION", "NPM_TOKEN", "API_KEY", "NODE_ENV"}  # no Setting for an ARG without default
    assert s["NPM_TOKEN"].context == "build-arg" and s["NPM_TOKEN"].value == "abc123"
    assert s["NPM_TOKEN"].ident == "Dockerfile:stage[0]/builder/arg/NPM_TOKEN"
    assert s["VERSION"].ident == "Dockerfile:global/arg/VERSION"
    assert s["API_KEY"].ident == "Dockerfile:stage[0]/builder/env/API_KEY"
    # the final image's env holds only what the final stage chain sets
    assert [x.name for x in container(pf).env] == ["NODE_ENV"]


def test_env_in_one_instruction_sees_previous_values():
    pf = df("FROM scratch\nENV A=hello\nENV A=bye B=$A\nUSER $B\n")
    assert container(pf).user == "hello"


def test_duplicate_setting_names_get_distinct_idents():
    pf = df("FROM alpine:3.20\nENV A=1\nENV A=2\n")
    assert [s.ident for s in pf.of_type("setting")] == ["Dockerfile:stage[0]/env/A", "Dockerfile:stage[0]/env/A[1]"]


# -- instructions ----------------------------------------------------------------------------

def test_every_instruction_is_a_resource_with_stage_and_final_flag():
    pf = df("ARG V=1\nFROM golang:1.22 AS build\nRUN go build\nFROM alpine:3.20\nRUN apk add curl\n")
    rows = [(r.ident, r.keyword, r.stage, r.final_stage) for r in pf.of_type("instruction")]
    assert rows == [
        ("Dockerfile:global/ARG[0]", "ARG", None, False),
        ("Dockerfile:stage[0]/build/FROM[0]", "FROM", "build", False),
        ("Dockerfile:stage[0]/build/RUN[0]", "RUN", "build", False),
        ("Dockerfile:stage[1]/FROM[0]", "FROM", 1, True),
        ("Dockerfile:stage[1]/RUN[0]", "RUN", 1, True),
    ]
    assert all(r.path == P and r.loc.path == P for r in pf.resources)
    assert all(r.format == "dockerfile" for r in pf.resources)


def test_in_final_image_follows_the_stage_chain():
    pf = df("FROM alpine:3.20 AS base\nRUN a\nFROM golang:1.22 AS other\nRUN b\nFROM base\nRUN c\n")
    assert [(r.value, r.in_final_image) for r in pf.of_type("instruction") if r.keyword == "RUN"] == [
        ("a", True), ("b", False), ("c", True)]


def test_unknown_instruction_and_instruction_before_from_are_errors():
    pf = df("RUN echo early\nFROM alpine:3.20\nWRONG thing\n")
    assert messages(pf, "error") == ["RUN before the first FROM (only ARG may come before FROM)",
                                     "unknown instruction: WRONG"]


def test_malformed_from_and_duplicate_stage_are_errors():
    pf = df("FROM a:1 AS x\nFROM b:1 AS x\nFROM c:1 AS\n")
    errs = messages(pf, "error")
    assert any("duplicate stage name 'x'" in e for e in errs)
    assert any("one or three arguments" in e for e in errs)


# -- the final image's config -----------------------------------------------------------------

def test_healthcheck_present_disabled_absent_and_inherited():
    assert container(df("FROM a:1\nHEALTHCHECK --interval=5s CMD curl -f http://localhost/\n")).healthcheck is True
    ct = container(df("FROM a:1 AS base\nHEALTHCHECK CMD true\nFROM base\nHEALTHCHECK NONE\n"))
    assert ct.healthcheck is False and ct.locs["healthcheck"].line == 4
    ct = container(df("FROM a:1 AS base\nHEALTHCHECK CMD true\nFROM base\n"))
    assert ct.healthcheck is True and ct.locs["healthcheck"].line == 2
    assert container(df("FROM a:1 AS base\nHEALTHCHECK CMD true\nFROM b:1\n")).healthcheck is None


def test_expose_ports():
    pf = df("FROM alpine:3.20\nARG P=9000\nEXPOSE 80 443/tcp 53/udp 8080-8082 $P ${UNSET_PORT}\n")
    ct = container(pf)
    assert ct.host_ports == [80, 443, 53, 8080, 8081, 8082, 9000, UNKNOWN]
    assert ct.locs["host_ports"] == Location(P, 3, 8, 3, 10)
    assert ct.port_locs[1] == Location(P, 3, 11, 3, 18)
    assert messages(pf) == []


def test_invalid_expose_is_an_error():
    pf = df("FROM alpine:3.20\nEXPOSE 70000 http 80/foo 22\n")
    assert container(pf).host_ports == [22]
    assert len(messages(pf, "error")) == 3


# -- degenerate input -------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "\n\n", "# just a comment\n", "ARG A=1\n"])
def test_no_from_is_an_error_and_no_container(text):
    pf = df(text)
    assert list(pf.of_type("container")) == [] and images(pf) == []
    assert [(d.line, d.level, d.message) for d in pf.diagnostics] == [
        (1, "error", "no FROM instruction: not a buildable Dockerfile")]


def test_bom_and_lone_cr():
    pf = df("\ufeffFROM alpine:3.20\rUSER app\r")
    assert container(pf).user == "app" and container(pf).locs["user"].line == 2


def test_library_never_writes_a_dockerfile_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    df("FROM alpine:3.20\nUSER app \\\n")
    assert os.listdir(tmp_path) == []


def test_never_raises_on_garbage():
    pieces = ["FROM", "RUN", "ENV", "ARG", "USER", "EXPOSE", "HEALTHCHECK", "AS", "<<EOF", "<<-'X'", "EOF", "X",
              "\\", "`", "$", "${", "}", "${A:-", "\"", "'", "=", "#", " ", "\t", "\n", "\r\n", "\n\n", "--platform=",
              "a:1", "scratch", "@sha256:", "80-", "/tcp", "# escape=`\n", "\ud800", "[", "]", "ONBUILD"]
    import random

    rng = random.Random(1234)
    for _ in range(2000):
        text = "".join(rng.choice(pieces) + rng.choice(["", " ", "\n"]) for _ in range(rng.randint(0, 40)))
        df(text)
