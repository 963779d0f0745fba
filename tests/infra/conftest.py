"""Synthesise the CDK app once per test session (the machine is small: one synth of the six stacks
takes ~40-60 s); every infra test module shares this one synth.

Context: stage=prod (the shipped configuration), sms_sender=sns, and ``aws:cdk:bundling-stacks=[]``
so no asset is bundled (offline, no Docker, no pip). cdk-nag is on: a finding fails ``synth()``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "infra"))

PROD_CONTEXT = {
    "stage": "prod",
    "sms_sender": "sns",
    "uploads_expire_days": 5,
    "web_origin": "https://melody.example.com",
    "catalog_max_acu": 8,
    "aws:cdk:bundling-stacks": [],
}


@dataclass
class Synth:
    melody: object  # melody_infra.app.MelodyApp
    outdir: Path
    data: object  # aws_cdk.assertions.Template
    auth: object
    api: object
    pipeline: object
    catalog: object
    web: object
    assembly: object
    seconds: float


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    import time

    from aws_cdk.assertions import Template

    from melody_infra.app import build_app

    outdir = tmp_path_factory.mktemp("cdkout")
    started = time.perf_counter()
    melody = build_app(context=dict(PROD_CONTEXT), outdir=str(outdir))
    assembly = melody.app.synth()  # raises on any unacknowledged cdk-nag error

    def template(stack) -> Template:
        return Template.from_json(assembly.get_stack_by_name(stack.stack_name).template)

    return Synth(
        melody=melody,
        outdir=outdir,
        data=template(melody.data),
        auth=template(melody.auth),
        api=template(melody.api),
        pipeline=template(melody.pipeline),
        catalog=template(melody.catalog),
        web=template(melody.web),
        assembly=assembly,
        seconds=time.perf_counter() - started,
    )
