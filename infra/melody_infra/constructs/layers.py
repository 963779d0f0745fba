"""The two layers every Python function uses: the shared ``melody`` package and its dependencies.

Each stack that holds functions makes its own :class:`MelodyLayers` (the assets are shared by hash),
so no stack exports a layer-version ARN that would block the next layer update.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from melody_infra.bundling import ARCHITECTURE, RUNTIME, dependencies_layer_code, shared_layer_code


class MelodyLayers(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.shared = lambda_.LayerVersion(
            self,
            "Shared",
            code=shared_layer_code(),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="melody: domain, adapters and API routers",
            removal_policy=RemovalPolicy.RETAIN,  # old versions stay usable by functions mid-deploy
        )
        self.dependencies = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=dependencies_layer_code(),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="third-party runtime dependencies of melody (pyproject [project].dependencies)",
            removal_policy=RemovalPolicy.RETAIN,
        )

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.dependencies, self.shared]
