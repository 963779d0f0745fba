"""Renditions (issue 13) inside ``MelodyPipeline``: their state machine and step functions.

* the Step Functions state machine built from ``statemachines/renditions.asl.json`` (the file the
  local runner executes), STANDARD, logging ALL, X-Ray, a role that may invoke exactly its four
  step functions;
* ``prepare`` and ``render`` from the pipeline's container image (they import the audio engine:
  the key names, the phase vocoder, ffmpeg), ``persist`` and ``mark_failed`` as zip functions;
* grants: the renditions table (read/write), the results table (read: which stems, which
  analysis), the media bucket's ``stems/`` (read) and ``renditions/`` (write) prefixes only.

The routes (``POST/GET /audio/jobs/{job_id}/renditions...``) are served by the conversions
function: :func:`wire_renditions_api` adds its grants in ``MelodyApi``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

import melody_infra.paths  # noqa: F401  (puts layers/shared/python on sys.path)
from melody.renditions.models import RENDITIONS_PREFIX
from melody_infra.constructs import MelodyFunction, env_name
from melody_infra.nag import acknowledge, nag_ref
from melody_infra.paths import REPO_ROOT

if TYPE_CHECKING:
    from melody_infra.stacks.data import DataStack
    from melody_infra.stacks.pipeline import PipelineStack

RENDITIONS_ASL_FILE = REPO_ROOT / "statemachines" / "renditions.asl.json"
# step -> (substitution key in the ASL, packaging, memory MB, timeout s, ephemeral MB)
RENDITION_STEPS: dict[str, tuple[str, str, int, int, int | None]] = {
    "prepare": ("PrepareFunctionArn", "image", 1024, 60, None),
    # one stem of up to 15 minutes: decode, phase vocoder (~1-2 s CPU per audio minute), AAC encode
    "render": ("RenderFunctionArn", "image", 3008, 900, 4096),
    "persist": ("PersistFunctionArn", "zip", 512, 60, None),
    "mark_failed": ("MarkFailedFunctionArn", "zip", 512, 60, None),
}
RENDITIONS_ROUTES = [
    "POST /api/v1/audio/jobs/{job_id}/renditions",
    "GET /api/v1/audio/jobs/{job_id}/renditions/{rendition_id}",
]
EXECUTION_TIMEOUT = Duration.minutes(30)


def rendition_service(name: str) -> str:
    return f"pipeline-rendition-{name.replace('_', '-')}"


class Renditions(Construct):
    def __init__(self, stack: PipelineStack, construct_id: str) -> None:
        super().__init__(stack, construct_id)
        self._stack = stack
        self.steps: dict[str, MelodyFunction] = {name: self._step(name) for name in RENDITION_STEPS}
        self.state_machine = self._state_machine()

    def _step(self, name: str) -> MelodyFunction:
        from melody_infra.stacks.pipeline import pipeline_image_code

        stack = self._stack
        _, packaging, memory, timeout_s, ephemeral = RENDITION_STEPS[name]
        construct_id = "".join(p.title() for p in name.split("_")) + "Step"
        handler = f"handler.rendition_{name}"
        fn = MelodyFunction(
            self,
            construct_id,
            area="pipeline",
            service=rendition_service(name),
            config=stack.config,
            layers=None if packaging == "image" else stack.layers,
            handler=handler,
            image_code=pipeline_image_code(handler) if packaging == "image" else None,
            environment={"MELODY_WORK_DIR": "/tmp"},
            memory_size=memory,
            timeout=Duration.seconds(timeout_s),
            ephemeral_storage_mb=ephemeral,
            reserved_concurrency=None,
            description=f"melody renditions: {name}",
        )
        d = stack.data
        fn.use_tables({"renditions_table": d.tables["renditions_table"]})
        fn.use_tables({"results_table": d.tables["results_table"]}, write=False)
        fn.add_environment(env_name("media_bucket"), d.media_bucket.bucket_name)
        fn.add_to_policy(
            [
                iam.PolicyStatement(
                    sid="ReadStems", actions=["s3:GetObject"], resources=[d.media_bucket.arn_for_objects("stems/*")]
                ),
                iam.PolicyStatement(
                    sid="WriteRenditions",
                    actions=["s3:PutObject"],
                    resources=[d.media_bucket.arn_for_objects(f"{RENDITIONS_PREFIX}*")],
                ),
                # a missing key answers 404 (not 403) only with ListBucket
                iam.PolicyStatement(sid="ListMedia", actions=["s3:ListBucket"], resources=[d.media_bucket.bucket_arn]),
            ]
        )

        def ref(value: str) -> str:
            return nag_ref(value, producer=d, consumer=fn)

        acknowledge(
            fn.role,
            {
                f"AwsSolutions-IAM5[Resource::{ref(d.media_bucket.bucket_arn)}/stems/*]": (
                    "A rendition reads the song's stems, stored under stems/<content hash>/<engine>/ decided at "
                    "run time; read only, limited to the stems/ prefix of the media bucket."
                ),
                f"AwsSolutions-IAM5[Resource::{ref(d.media_bucket.bucket_arn)}/{RENDITIONS_PREFIX}*]": (
                    "Rendered stems are written under renditions/<content hash>/<engine>/<semitones>_<tempo>/, "
                    "decided at run time; write only, limited to the renditions/ prefix of the media bucket."
                ),
                **_index_reason(ref(d.tables["renditions_table"].table_arn)),
            },
        )
        return fn

    def _state_machine(self) -> sfn.StateMachine:
        from melody_infra.stacks.pipeline import state_machine_definition

        c = self._stack.config
        self.execution_logs = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=f"/aws/vendedlogs/states/{c.name('renditions')}",
            retention=c.log_retention,
            removal_policy=c.removal_policy,
        )
        role = iam.Role(
            self,
            "StateMachineRole",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=f"melody renditions state machine ({c.stage})",
        )
        substitutions = {RENDITION_STEPS[name][0]: fn.function.function_arn for name, fn in self.steps.items()}
        machine = sfn.StateMachine(
            self,
            "RenditionsMachine",
            state_machine_name=c.name("renditions"),
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(
                state_machine_definition(RENDITIONS_ASL_FILE, timeout=EXECUTION_TIMEOUT)
            ),
            definition_substitutions=substitutions,
            role=role,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.execution_logs, level=sfn.LogLevel.ALL, include_execution_data=True),
            removal_policy=RemovalPolicy.DESTROY,  # holds no data
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="InvokeRenditionSteps",
                actions=["lambda:InvokeFunction"],
                resources=[fn.function.function_arn for fn in self.steps.values()],
            )
        )
        acknowledge(
            role,
            {
                "AwsSolutions-IAM5[Resource::*]": (
                    "Step Functions logging (logs:CreateLogDelivery and the other log-delivery actions) and X-Ray "
                    "support no resource-level permissions; Lambda invocation is scoped to the four rendition steps."
                ),
            },
        )
        return machine


def _index_reason(table_ref: str) -> dict[str, str]:
    """cdk-nag's acknowledgement of the table grant's ``index/*``: the renditions table's one index."""
    return {
        f"AwsSolutions-IAM5[Resource::{table_ref}/index/*]": (
            "The renditions table's only index is by_result (a result's renditions, queried when a song's last "
            "job is deleted); the wildcard stays inside this one table."
        )
    }


def wire_renditions_api(fn: MelodyFunction, pipeline: PipelineStack, data: DataStack) -> None:
    """The conversions function serves the renditions routes: their table, machine and settings.

    (Presigned GETs of rendered stems are covered by its ``PresignDownloads`` grant on the media
    bucket; the per-user limit uses the rate-limit table it already has.)
    """
    fn.use_tables({"renditions_table": data.tables["renditions_table"]})
    acknowledge(fn.role, _index_reason(nag_ref(data.tables["renditions_table"].table_arn, producer=data, consumer=fn)))
    fn.add_environment("MELODY_RENDITIONS_STATE_MACHINE_ARN", pipeline.renditions.state_machine.state_machine_arn)
    pipeline.renditions.state_machine.grant_start_execution(fn.role)
