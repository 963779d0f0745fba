"""Packaging and configuration helpers (no synth)."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "infra"))


def test_runtime_dependencies_come_from_pyproject():
    from melody_infra.bundling import runtime_dependencies

    deps = runtime_dependencies()
    assert deps == tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not any(d.startswith(("numpy", "scipy", "aws-cdk-lib", "moto")) for d in deps)


def test_pip_command_targets_lambda_arm64_wheels():
    from melody_infra.bundling import pip_install_command

    cmd = pip_install_command("/out/python", ["fastapi==0.165.0"])
    joined = " ".join(cmd)
    assert "--platform manylinux2014_aarch64" in joined
    assert "--only-binary=:all:" in cmd and "--python-version 3.13" in joined
    assert cmd[cmd.index("--target") + 1] == "/out/python"


def test_local_bundling_installs_under_python_and_reports_failure(tmp_path):
    from melody_infra.bundling import PipLocalBundling

    ok = tmp_path / "ok.sh"
    ok.write_text(
        '#!/bin/sh\nfor a; do t="$p"; p="$a"; done\nwhile [ $# -gt 0 ]; do [ "$1" = --target ] && mkdir -p "$2/pkg"; shift; done\n'
    )
    ok.chmod(0o755)
    assert PipLocalBundling(["x==1"], python=str(ok)).try_bundle(str(tmp_path / "out"))
    assert (tmp_path / "out" / "python" / "pkg").is_dir()
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/bin/sh\nexit 1\n")
    bad.chmod(0o755)
    assert PipLocalBundling(["x==1"], python=str(bad)).try_bundle(str(tmp_path / "out2")) is False


def test_function_code_requires_a_handler():
    from melody_infra.bundling import function_code

    with pytest.raises(FileNotFoundError):
        function_code("no-such-area")


def test_removal_policy_by_stage():
    from aws_cdk import RemovalPolicy

    from melody_infra.config import removal_policy_for

    assert removal_policy_for("prod") == RemovalPolicy.RETAIN
    assert removal_policy_for("dev") == RemovalPolicy.DESTROY


def test_config_validates_context():
    from aws_cdk import App

    from melody_infra.config import MelodyConfig

    assert MelodyConfig.from_node(App(context={"stage": "dev"}).node).uploads_expire_days == 7
    with pytest.raises(ValueError):
        MelodyConfig.from_node(App(context={"stage": "qa"}).node)


def test_a_deployment_must_name_its_stage():
    """No default stage: ``cdk deploy`` without ``-c stage=…`` refuses to synthesise (it used to deploy dev)."""
    from aws_cdk import App

    from melody_infra.app import build_app
    from melody_infra.config import MelodyConfig

    for context in ({}, {"stage": ""}, {"sms_sender": "sns"}):
        with pytest.raises(ValueError, match="'stage' is required"):
            MelodyConfig.from_node(App(context=context).node)
    with pytest.raises(ValueError, match="'stage' is required"):
        build_app(context={"aws:cdk:bundling-stacks": []}, nag=False)
    cdk_json = json.loads((REPO / "cdk.json").read_text())
    assert "stage" not in cdk_json["context"]  # the CLI must not bring one either


@pytest.mark.parametrize("stage", ["dev", "test", "staging", "prod"])
def test_no_deployed_stage_may_use_the_console_sms_sender(stage):
    """The console sender writes codes to the logs (CloudWatch, once deployed): the local stack only."""
    from aws_cdk import App

    from melody_infra.config import MelodyConfig

    with pytest.raises(ValueError, match="local stack only"):
        MelodyConfig.from_node(App(context={"stage": stage, "sms_sender": "console"}).node)
    assert MelodyConfig.from_node(App(context={"stage": stage}).node).sms_sender == "sns"  # the default everywhere
    assert MelodyConfig.from_node(App(context={"stage": stage, "sms_sender": "msg91"}).node).sms_sender == "msg91"


def test_security_alarm_thresholds_are_context_keys():
    from aws_cdk import App

    from melody_infra.config import MelodyConfig

    defaults = MelodyConfig.from_node(App(context={"stage": "prod"}).node)
    assert (
        defaults.alarm_refresh_token_reuse_threshold,
        defaults.alarm_otp_lockout_threshold,
        defaults.alarm_rate_limited_threshold,
    ) == (1, 20, 100)
    custom = MelodyConfig.from_node(
        App(context={"stage": "prod", "alarm_otp_lockout_threshold": "5", "alarm_rate_limited_threshold": 500}).node
    )
    assert (custom.alarm_otp_lockout_threshold, custom.alarm_rate_limited_threshold) == (5, 500)
    with pytest.raises(ValueError):
        MelodyConfig.from_node(App(context={"stage": "prod", "alarm_refresh_token_reuse_threshold": 0}).node)


def test_make_synth_names_a_stage():
    import re

    makefile = (REPO / "Makefile").read_text()
    (recipe,) = re.findall(r"^synth: install\n\t(.+)$", makefile, flags=re.M)
    assert "infra/app.py" in recipe and '"stage"' in recipe
    assert re.search(r"^synth: STAGE \?= (dev|test|staging|prod)$", makefile, flags=re.M)


def test_route_parsing():
    from melody_infra.stacks.api import parse_route

    method, path = parse_route("PATCH /api/v1/users/me")
    assert method.value == "PATCH" and path == "/api/v1/users/me"
    with pytest.raises(ValueError):
        parse_route("GET users")
