"""cdk-nag v3 is really on: the app synthesised clean (the fixture), and a violation does fail."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.infra


def test_app_is_nag_clean(synth):
    """synth() already passed with the plugin on; re-run the same pack over the tree to be explicit."""
    pack = synth.melody.nag_pack
    assert pack is not None and pack.name == "AwsSolutions"
    result = pack.validate_scope(synth.melody.app)
    assert result.success and list(result.violations) == []


def test_app_validation_report_has_no_failure(synth):
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    # cdk-nag reports nothing when it finds nothing; other plugins (CloudFormation Validate) may report
    for plugin in report["pluginReports"]:
        assert plugin["conclusion"] == "success", plugin["pluginName"]
        assert not [v for v in plugin.get("violations", []) if v.get("severity") == "error"]


def test_a_deliberate_violation_fails_the_synth(tmp_path, synth):
    """Same plugin wiring as the app (enable_nag); an unencrypted, non-SSL queue must fail."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_sqs as sqs

    from melody_infra.nag import acknowledge, enable_nag

    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Throwaway")
    queue = sqs.Queue(stack, "Queue")
    acknowledge(queue, {"AwsSolutions-SQS3": "Throwaway test queue: a DLQ is beside the point here."})
    pack = enable_nag(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert "AwsSolutions-SQS4" in rules  # not acknowledged: reported
    assert "AwsSolutions-SQS3" not in rules  # acknowledged with a reason: silent
    assert not pack.validate_scope(app).success


def test_acknowledgements_need_a_reason():
    from aws_cdk import App

    from melody_infra.nag import acknowledge

    with pytest.raises(ValueError, match="reason"):
        acknowledge(App(), {"AwsSolutions-S1": ""})
