"""``MelodyPipeline``: the audio pipeline (issue 4).

* the Step Functions state machine built from ``statemachines/audio_pipeline.asl.json`` (the same
  file the local runner executes), STANDARD, logging ALL, X-Ray, a role that may invoke exactly
  the six step functions;
* the step functions: ``probe``/``separate``/``analyse`` from one Lambda container image
  (``infra/docker/pipeline.Dockerfile``: numpy, scipy, pyloudnorm, ffmpeg-python and a static
  ffmpeg do not fit the 250 MB unzipped layer limit), ``reuse``/``persist``/``mark_failed`` and
  the EventBridge ``trigger`` as zip functions with the shared and dependency layers (they never
  import the audio engine);
* the EventBridge rule "Object Created under uploads/" -> trigger (retries, SQS dead-letter queue);
* the EventBridge rule on the FAILED / TIMED_OUT / ABORTED executions of this machine and of the
  renditions machine -> ``reconcile`` (retries, its own dead-letter queue; the jobs and renditions
  tables only), which fails a job (rendition) an execution left running outside its Catch
  (``States.Runtime``, the execution timeout, a stop, MarkFailed failing);
* alarms to an encrypted SNS topic, for system faults only: jobs failed for a system reason
  (``PipelineFailures`` with ``kind=system``, emitted by ``mark_failed``; a bad upload is
  ``kind=input`` and pages no one), the ``mark_failed`` function itself failing, timed-out
  executions and dead letters.

The audio API routes live in ``MelodyApi`` (:func:`add_conversions_routes`), because the API, its
authorizer and its functions share one stack.
"""

from __future__ import annotations

import json

from aws_cdk import CfnOutput, Duration, IgnoreMode, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

import melody_infra.paths  # noqa: F401  (puts layers/shared/python on sys.path)
from melody.conversions.metrics import FAILURE_METRIC
from melody.conversions.models import ORIGINALS_PREFIX, RESULT_PREFIXES
from melody.conversions.trigger import upload_event_pattern
from melody_infra.config import MelodyConfig
from melody_infra.constructs import MelodyFunction, MelodyLayers, env_name
from melody_infra.constructs.function import METRICS_NAMESPACE
from melody_infra.constructs.neural import NeuralSeparation
from melody_infra.constructs.reconciler import ExecutionReconciler, add_threshold_alarms
from melody_infra.nag import acknowledge, nag_ref
from melody_infra.paths import REPO_ROOT
from melody_infra.stacks.data import UPLOADS_PREFIX, DataStack
from melody_infra.stacks.renditions import RENDITIONS_ROUTES, Renditions, wire_renditions_api

ASL_FILE = REPO_ROOT / "statemachines" / "audio_pipeline.asl.json"
DOCKERFILE = "infra/docker/pipeline.Dockerfile"
# The image's build context is the repository root, reduced to what the Dockerfile copies
# (.dockerignore semantics: ignore everything, then re-include).
PIPELINE_IMAGE_FILES = [
    "*",
    "!pyproject.toml",
    "!README.md",
    "!layers/shared",
    "!layers/audio",
    "!functions/pipeline",
    f"!{DOCKERFILE}",
    "**/__pycache__",
    "**/*.pyc",
    "**/.pytest_cache",
    "**/*.egg-info",
]
# A whole execution may not outlive this (the Separate task alone may take 15 minutes).
EXECUTION_TIMEOUT = Duration.hours(1)


# step -> (substitution key in the ASL, packaging, memory MB (None: config), timeout s, ephemeral MB)
STEPS: dict[str, tuple[str, str, int | None, int, int | None]] = {
    "probe": ("ProbeFunctionArn", "image", 3008, 300, 4096),
    "separate": ("SeparateFunctionArn", "image", None, 900, 10240),
    "analyse": ("AnalyseFunctionArn", "image", None, 600, 4096),
    # the lead sheet (optional step): two stems decoded, ~2.3 s CPU per audio minute for the note model
    "melody": ("MelodyFunctionArn", "image", 3008, 600, 4096),
    "reuse": ("ReuseResultsFunctionArn", "zip", 512, 60, None),
    "persist": ("PersistFunctionArn", "zip", 512, 60, None),
    "mark_failed": ("MarkFailedFunctionArn", "zip", 512, 60, None),
}


def step_service(name: str) -> str:
    """The ``service`` of a step function (``POWERTOOLS_SERVICE_NAME`` is ``melody-<service>``)."""
    return f"pipeline-{name.replace('_', '-')}"


def pipeline_image_code(cmd: str) -> lambda_.DockerImageCode:
    """The pipeline image with ``cmd`` as its handler. Synth only stages the (reduced) context;
    the image is built and pushed by the CDK CLI at deploy time (``cdk-assets``)."""
    return lambda_.DockerImageCode.from_image_asset(
        str(REPO_ROOT),
        file=DOCKERFILE,
        cmd=[cmd],
        platform=ecr_assets.Platform.LINUX_ARM64,
        exclude=PIPELINE_IMAGE_FILES,
        ignore_mode=IgnoreMode.DOCKER,
    )


def state_machine_definition(asl_file=ASL_FILE, *, timeout: Duration = EXECUTION_TIMEOUT) -> str:
    """The ASL file as is, plus an execution-wide ``TimeoutSeconds`` when the file sets none
    (so the timed-out alarm means something); the ``${...Arn}`` placeholders stay for CDK."""
    document = json.loads(asl_file.read_text())
    document.setdefault("TimeoutSeconds", int(timeout.to_seconds()))
    return json.dumps(document, indent=2)


class PipelineStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: MelodyConfig, data: DataStack, **kwargs
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.data = data
        self.layers = MelodyLayers(self, "Layers")
        self.steps: dict[str, MelodyFunction] = {name: self._step(name) for name in STEPS}
        # the neural engine's separate step (issue 14): off unless the operator names weights
        self.neural = NeuralSeparation(self, "NeuralSeparation", config=config, data=data)
        if self.neural.enabled and not self.neural.gpu:
            self.neural.function = self._neural_step()
        if self.neural.enabled:  # probe/reuse/persist key neural results by the weights (new weights, new stems)
            for step in self.steps.values():
                step.function.add_environment("MELODY_NEURAL_WEIGHTS_SHA256", str(self.neural.weights_sha256).lower())
        self.state_machine = self._state_machine()
        # renditions (issue 13): their own state machine and steps, from the same image and layers
        self.renditions = Renditions(self, "Renditions")
        self.trigger = self._trigger()
        self.dead_letters = self._dead_letter_queue()
        self.rule = self._upload_rule()
        # executions that end outside the Catch (States.Runtime, TIMED_OUT, ABORTED): fail their job
        self.reconcile = self._reconcile()
        self.alarm_topic = self._alarms()
        CfnOutput(self, "StateMachineArn", value=self.state_machine.state_machine_arn)

    # -- functions -----------------------------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        return {"MELODY_WORK_DIR": "/tmp"}

    def _grant_data(self, fn: MelodyFunction) -> None:
        """Read uploads, read/write media, read/write the jobs and results tables."""
        d = self.data
        fn.use_tables(
            {
                "jobs_table": d.tables["jobs_table"],
                "results_table": d.tables["results_table"],
                # a succeeded upload becomes a library entry (melody.conversions.completion)
                "library_table": d.tables["library_table"],
            }
        )
        fn.add_environment(env_name("uploads_bucket"), d.uploads_bucket.bucket_name)
        fn.add_environment(env_name("media_bucket"), d.media_bucket.bucket_name)
        fn.add_to_policy(
            [
                iam.PolicyStatement(
                    sid="ReadUploads",
                    actions=["s3:GetObject"],
                    resources=[d.uploads_bucket.arn_for_objects(f"{UPLOADS_PREFIX}*")],
                ),
                iam.PolicyStatement(
                    sid="ReadWriteMedia",
                    actions=["s3:GetObject", "s3:PutObject"],
                    resources=[d.media_bucket.arn_for_objects("*")],
                ),
                # a missing key answers 404 (not 403) only with ListBucket
                iam.PolicyStatement(
                    sid="ListBuckets",
                    actions=["s3:ListBucket"],
                    resources=[d.uploads_bucket.bucket_arn, d.media_bucket.bucket_arn],
                ),
            ]
        )
        acknowledge_data_wildcards(fn, d, uploads=True, media=True, library=True)

    def _step(self, name: str) -> MelodyFunction:
        _, packaging, memory, timeout_s, ephemeral = STEPS[name]
        if memory is None:
            memory = self.config.separate_memory_mb if name == "separate" else self.config.analyse_memory_mb
        construct_id = "".join(p.title() for p in name.split("_")) + "Step"
        fn = MelodyFunction(
            self,
            construct_id,
            area="pipeline",
            service=step_service(name),
            config=self.config,
            layers=None if packaging == "image" else self.layers,
            handler=f"handler.{name}",
            image_code=pipeline_image_code(f"handler.{name}") if packaging == "image" else None,
            environment=self._environment(),
            memory_size=memory,
            timeout=Duration.seconds(timeout_s),
            ephemeral_storage_mb=ephemeral,
            # Step Functions invokes synchronously and retries; one job must not starve the account.
            reserved_concurrency=None,
            description=f"melody audio pipeline: {name}",
        )
        self._grant_data(fn)
        return fn

    def _neural_step(self) -> MelodyFunction:
        """The neural separate step: the pipeline's code plus onnxruntime and the operator's baked weights."""
        fn = MelodyFunction(
            self,
            "NeuralSeparateStep",
            area="pipeline",
            service=step_service("neural_separate"),
            config=self.config,
            layers=None,
            handler="handler.separate",
            image_code=self.neural.lambda_image(),
            environment={**self._environment(), **self.neural.environment()},
            memory_size=10240,
            timeout=Duration.seconds(900),
            ephemeral_storage_mb=10240,
            description="melody audio pipeline: separate with the operator's ONNX model (neural engine)",
        )
        self._grant_data(fn)
        return fn

    def _trigger(self) -> MelodyFunction:
        d = self.data
        fn = MelodyFunction(
            self,
            "TriggerFunction",
            area="pipeline",
            service="pipeline-trigger",
            config=self.config,
            layers=self.layers,
            handler="handler.trigger",
            environment={
                **self._environment(),
                "MELODY_STATE_MACHINE_ARN": self.state_machine.state_machine_arn,
            },
            memory_size=512,
            timeout=Duration.seconds(30),
            description="melody audio pipeline: S3 Object Created (EventBridge) -> start the job's execution",
        )
        fn.use_tables({"jobs_table": d.tables["jobs_table"]})
        fn.add_environment(env_name("results_table"), d.tables["results_table"].table_name)
        fn.add_environment(env_name("uploads_bucket"), d.uploads_bucket.bucket_name)
        fn.add_environment(env_name("media_bucket"), d.media_bucket.bucket_name)
        fn.add_to_policy(
            [
                iam.PolicyStatement(
                    sid="HeadUploads",  # HeadObject, and CopyObject's read of its source, are s3:GetObject
                    actions=["s3:GetObject"],
                    resources=[d.uploads_bucket.arn_for_objects(f"{UPLOADS_PREFIX}*")],
                ),
                # The accepted upload's immutable copy (what the job processes and serves): a key
                # no upload form can write, so a replayed form cannot change it.
                iam.PolicyStatement(
                    sid="CopyOriginals",
                    actions=["s3:PutObject"],
                    resources=[d.media_bucket.arn_for_objects(f"{ORIGINALS_PREFIX}*")],
                ),
            ]
        )
        self.state_machine.grant_start_execution(fn.role)
        acknowledge_data_wildcards(fn, d, uploads=True, originals=True)
        return fn

    # -- the state machine ---------------------------------------------------------------------

    def _state_machine(self) -> sfn.StateMachine:
        c = self.config
        self.execution_logs = logs.LogGroup(
            self,
            "ExecutionLogs",
            # vended-logs prefix keeps the CloudWatch Logs resource policy small
            log_group_name=f"/aws/vendedlogs/states/{c.name('audio-pipeline')}",
            retention=c.log_retention,
            removal_policy=c.removal_policy,
        )
        role = iam.Role(
            self,
            "StateMachineRole",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=f"melody audio pipeline state machine ({c.stage})",
        )
        substitutions = {STEPS[name][0]: fn.function.function_arn for name, fn in self.steps.items()}
        substitutions.update(self.neural.substitutions(self.steps["separate"].function.function_arn))
        definition = state_machine_definition()
        if self.neural.gpu:  # SeparateNeural becomes an AWS Batch job on a GPU
            definition = json.dumps(self.neural.definition(json.loads(definition)), indent=2)
        machine = sfn.StateMachine(
            self,
            "AudioPipeline",
            state_machine_name=c.name("audio-pipeline"),
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(definition),
            definition_substitutions=substitutions,
            role=role,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.execution_logs, level=sfn.LogLevel.ALL, include_execution_data=True),
            removal_policy=RemovalPolicy.DESTROY,  # holds no data; executions' history goes with it
        )
        # Exactly the six step functions, unqualified (the ASL invokes them by plain ARN).
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="InvokeStepFunctions",
                actions=["lambda:InvokeFunction"],
                resources=[fn.function.function_arn for fn in self.steps.values()],
            )
        )
        self.neural.grant_to_state_machine(role)
        self.neural.grant_job_to_report(machine.state_machine_arn)
        acknowledge(
            role,
            {
                "AwsSolutions-IAM5[Resource::*]": (
                    "Step Functions logging (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, "
                    "DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, "
                    "DescribeLogGroups) and X-Ray (PutTraceSegments, PutTelemetryRecords, GetSamplingRules, "
                    "GetSamplingTargets) support no resource-level permissions; Lambda invocation is scoped "
                    "to the six step functions."
                ),
            },
        )
        return machine

    # -- the upload trigger --------------------------------------------------------------------

    def _dead_letter_queue(self) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            "TriggerDeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=self.config.removal_policy,
        )
        acknowledge(
            queue,
            {
                "AwsSolutions-SQS3": (
                    "This queue IS the dead-letter queue: of the upload rule's Lambda target and of the trigger "
                    "function's asynchronous invocations; it is alarmed on and inspected by hand."
                ),
            },
        )
        # Failed asynchronous runs of the trigger (after Lambda's own retries) land here too.
        self.trigger.function.configure_async_invoke(
            on_failure=destinations.SqsDestination(queue),
            retry_attempts=2,
            max_event_age=Duration.hours(6),
        )
        return queue

    def _upload_rule(self) -> events.Rule:
        pattern = upload_event_pattern(self.data.uploads_bucket.bucket_name)
        rule = events.Rule(
            self,
            "UploadCreated",
            description="uploads/ Object Created in the uploads bucket -> the audio pipeline trigger",
            event_pattern=events.EventPattern(
                source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern["detail"]
            ),
        )
        rule.add_target(
            targets.LambdaFunction(
                self.trigger.function,
                dead_letter_queue=self.dead_letters,
                retry_attempts=8,
                max_event_age=Duration.hours(2),
            )
        )
        return rule

    # -- executions that end outside the Catch -------------------------------------------------

    def _reconcile(self) -> ExecutionReconciler:
        """FAILED / TIMED_OUT / ABORTED executions of the audio pipeline (and of the renditions machine)
        -> ``handler.reconcile``, which fails a job (rendition) still queued/processing
        (``melody.conversions.reconcile``): the jobs and renditions tables only."""
        jobs, renditions = self.data.tables["jobs_table"], self.data.tables["renditions_table"]
        return ExecutionReconciler(
            self,
            "Reconcile",
            config=self.config,
            layers=self.layers,
            area="pipeline",
            service="pipeline-reconcile",
            environment={env_name("jobs_table"): jobs.table_name, env_name("renditions_table"): renditions.table_name},
            # Read the record, then its conditional update: nothing else (no index, no other table, no bucket).
            statement=iam.PolicyStatement(
                sid="ReconcileRecords",
                actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
                resources=[jobs.table_arn, renditions.table_arn],
            ),
            machines=[self.state_machine, self.renditions.state_machine],
            what="audio pipeline / renditions",
        )

    # -- alarms --------------------------------------------------------------------------------

    def _alarms(self) -> sns.Topic:
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description="melody pipeline alarm topic",
            enable_key_rotation=True,
            removal_policy=self.config.removal_policy,
        )
        # CloudWatch alarms publish to an encrypted topic only with a customer managed key it may use.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )
        topic = sns.Topic(self, "AlarmTopic", display_name="Melody pipeline alarms", master_key=key, enforce_ssl=True)
        if self.config.alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(self.config.alarm_email))
        period = Duration.minutes(5)
        # Every Catch ends in Fail, so ExecutionsFailed also counts corrupt or too-long uploads:
        # page instead on the system failures mark_failed counts (its EMF metric, melody.conversions.metrics).
        system_failures = cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=FAILURE_METRIC,
            dimensions_map={"service": f"melody-{step_service('mark_failed')}", "kind": "system"},
            statistic=cloudwatch.Stats.SUM,
            period=period,
        )
        alarms: dict[str, tuple[cloudwatch.IMetric, str]] = {
            "SystemFailuresAlarm": (system_failures, "audio pipeline jobs failed for a system reason (not bad input)"),
            "MarkFailedErrorsAlarm": (
                self.steps["mark_failed"].function.metric_errors(period=period),
                "the audio pipeline's mark_failed step failed (a job may be left unmarked)",
            ),
            "ExecutionsTimedOutAlarm": (
                self.state_machine.metric_timed_out(period=period),
                "an audio pipeline execution timed out",
            ),
            "DeadLettersAlarm": (
                self.dead_letters.metric_approximate_number_of_messages_visible(period=period),
                "upload events could not be delivered to the pipeline trigger (see the dead-letter queue)",
            ),
        }
        add_threshold_alarms(self, alarms, topic, self.config.stage)
        self.reconcile.add_alarms(topic)
        return topic


# -- the conversions API routes (in MelodyApi) -----------------------------------------------------------

CONVERSIONS_ROUTES = [
    "POST /api/v1/audio/uploads",
    "POST /api/v1/audio/convert-to-instrumental",
    "GET /api/v1/audio/conversion-status/{job_id}",
    "GET /api/v1/audio/jobs",
    "POST /api/v1/audio/jobs/{job_id}/link",
    "GET /api/v1/audio/jobs/{job_id}/download/{stem}",
    "POST /api/v1/audio/jobs/{job_id}/retry",
    "DELETE /api/v1/audio/jobs/{job_id}",
    "GET /api/v1/audio/jobs/{job_id}/melody",  # issue 12: the lead sheet
]


def add_conversions_routes(api, pipeline: PipelineStack, data: DataStack) -> MelodyFunction:
    """``functions/conversions`` behind the JWT authorizer: upload URLs, conversion jobs, status."""
    fn = api.add_lambda_route_group(
        "conversions",
        routes=CONVERSIONS_ROUTES + RENDITIONS_ROUTES,  # a job's renditions: same function
        protected=True,
        environment={"MELODY_STATE_MACHINE_ARN": pipeline.state_machine.state_machine_arn},
    )
    if pipeline.neural.enabled:  # jobs may then ask for the neural engine (else 422 engine_unavailable)
        fn.add_environment("MELODY_ENGINES", "dsp,neural")
    # the rate-limit table: per-user limits on creating uploads (the auth limiter's counters)
    fn.use_tables(
        {
            "jobs_table": data.tables["jobs_table"],
            "results_table": data.tables["results_table"],
            "rate_limit_table": data.tables["rate_limit_table"],
            # uploads' library entries: linking, titles for downloads, deletion
            "library_table": data.tables["library_table"],
        }
    )
    fn.add_environment(env_name("uploads_bucket"), data.uploads_bucket.bucket_name)
    fn.add_environment(env_name("media_bucket"), data.media_bucket.bucket_name)
    fn.add_to_policy(
        [
            # DELETE /audio/jobs/{job_id}: the job's upload and original, and the result no other job
            # uses (its stems, analysis, lead-sheet and renditions' files: JobService.delete; the
            # renditions' records through the renditions table's grant, wire_renditions_api)
            iam.PolicyStatement(
                sid="DeleteUserSongs",
                actions=["s3:DeleteObject"],
                resources=[
                    data.uploads_bucket.arn_for_objects(f"{UPLOADS_PREFIX}*"),
                    data.media_bucket.arn_for_objects(f"{ORIGINALS_PREFIX}*"),
                    *(data.media_bucket.arn_for_objects(f"{prefix}*") for prefix in RESULT_PREFIXES),
                ],
            ),
            # presigned POST/GET are signed with this role: it must hold the permission itself
            iam.PolicyStatement(
                sid="PresignUploads",
                actions=["s3:PutObject"],
                resources=[data.uploads_bucket.arn_for_objects(f"{UPLOADS_PREFIX}*")],
            ),
            iam.PolicyStatement(
                sid="PresignDownloads",
                actions=["s3:GetObject"],
                resources=[
                    data.uploads_bucket.arn_for_objects(f"{UPLOADS_PREFIX}*"),
                    data.media_bucket.arn_for_objects("*"),
                ],
            ),
        ]
    )
    pipeline.state_machine.grant_start_execution(fn.role)
    wire_renditions_api(fn, pipeline, data)
    acknowledge_data_wildcards(fn, data, uploads=True, media=True, library=True, song_deletes=True)
    return fn


def acknowledge_data_wildcards(
    fn: MelodyFunction,
    data: DataStack,
    *,
    uploads=False,
    media=False,
    originals=False,
    jobs=True,
    library=False,
    song_deletes=False,
) -> None:
    """The object/index wildcards of the grants above, each named and explained."""
    def ref(value: str) -> str:
        return nag_ref(value, producer=data, consumer=fn)

    reasons: dict[str, str] = {}
    if jobs:
        reasons[f"AwsSolutions-IAM5[Resource::{ref(data.tables['jobs_table'].table_arn)}/index/*]"] = (
            "The jobs table's GSIs (by_user: a user's jobs newest first); DynamoDB index ARNs are "
            "table/index/<name>, the wildcard stays inside this one table."
        )
    if uploads:
        reasons[f"AwsSolutions-IAM5[Resource::{ref(data.uploads_bucket.bucket_arn)}/{UPLOADS_PREFIX}*]"] = (
            "Upload object keys are uploads/<user>/<job>/<file>, created at run time; the wildcard is "
            "limited to the uploads/ prefix of the uploads bucket."
        )
    if media:
        reasons[f"AwsSolutions-IAM5[Resource::{ref(data.media_bucket.bucket_arn)}/*]"] = (
            "Stems, analysis and waveforms are written under content-hash keys decided at run time; the "
            "wildcard covers objects of the media bucket only (no bucket-level or delete actions)."
        )
    if originals:
        reasons[f"AwsSolutions-IAM5[Resource::{ref(data.media_bucket.bucket_arn)}/{ORIGINALS_PREFIX}*]"] = (
            "Accepted uploads are copied to originals/<user>/<job>/<etag>/<file>, decided at run time; the "
            "wildcard is limited to the originals/ prefix of the media bucket."
        )
    if library:
        reasons[f"AwsSolutions-IAM5[Resource::{ref(data.tables['library_table'].table_arn)}/index/*]"] = (
            "The library table's GSIs (by_added, by_updated) come with its read/write grant: uploads' "
            "library entries are written here; the wildcard stays inside this one table."
        )
    if song_deletes:
        for prefix in (*RESULT_PREFIXES, ORIGINALS_PREFIX):
            reasons[f"AwsSolutions-IAM5[Resource::{ref(data.media_bucket.bucket_arn)}/{prefix}*]"] = (
                "Deleting a user's song deletes its original and the stems/analysis/lead sheet/renditions no other "
                "job references (keys decided at run time by content hash); limited to these prefixes of the media bucket."
            )
    acknowledge(fn.role, reasons)
