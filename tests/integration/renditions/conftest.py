"""The renditions integration tests' stack: the services over moto, both state machines (the audio
pipeline and the renditions machine) in the local ASL runner."""

from __future__ import annotations

import pytest


@pytest.fixture()
def stack(dev_settings, tmp_path):
    from melody.core.services import Services
    from melody_dev.local.pipeline import STATE_MACHINE, build_runner
    from melody_dev.local.renditions import RENDITIONS_MACHINE
    from melody_dev.local.workflow_starter import LocalWorkflowStarter

    services = Services(dev_settings.model_copy(update={"work_dir": tmp_path}), workflow=object())
    runner = build_runner(services.steps, rendition_steps=services.rendition_steps, sleep=lambda _s: None)
    services.use_workflow(LocalWorkflowStarter(runner, STATE_MACHINE))
    services.use_renditions_workflow(LocalWorkflowStarter(runner, RENDITIONS_MACHINE))
    services.runner = runner
    yield services
    runner.shutdown()
