"""Renditions in ``melody dev``: ``statemachines/renditions.asl.json`` in the local ASL runner,
through the same step code as the Lambdas (``functions/pipeline/handler.py``'s ``rendition_*``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

RENDITIONS_MACHINE = "renditions"
RENDITIONS_ASL_PATH = Path(__file__).resolve().parents[3] / "statemachines" / "renditions.asl.json"
# ASL placeholder -> method of melody.renditions.steps.RenditionSteps
RENDITION_STEP_FUNCTIONS = {
    "PrepareFunctionArn": "prepare",
    "RenderFunctionArn": "render",
    "PersistFunctionArn": "persist",
    "MarkFailedFunctionArn": "mark_failed",
}


def renditions_machine(steps: Any) -> tuple[dict, dict]:
    """(definition, resources) of the renditions state machine over ``steps`` (a RenditionSteps)."""
    from melody_dev.local.pipeline import _logged
    from melody_dev.workflow import load_definition

    names = {key: f"melody-local-rendition-{name}" for key, name in RENDITION_STEP_FUNCTIONS.items()}
    definition = load_definition(RENDITIONS_ASL_PATH, names)
    resources = {names[key]: _logged(f"rendition_{name}", getattr(steps, name)) for key, name in RENDITION_STEP_FUNCTIONS.items()}
    return definition, resources


def build_renditions_runner(steps: Any, *, max_workers: int = 2, **machine_options: Any) -> Any:
    """A runner with the renditions state machine alone (tests)."""
    from melody_dev.workflow import LocalStepFunctions

    definition, resources = renditions_machine(steps)
    return LocalStepFunctions({RENDITIONS_MACHINE: definition}, resources, max_workers=max_workers, **machine_options)
