"""Scores in AWS (issue 12): the score analysis state machine and its steps in ``MelodyPipeline``,
the ``/scores`` routes in ``MelodyApi``.

* ``statemachines/score_analysis.asl.json`` (the file the local runner executes) as its own
  STANDARD state machine: Analyse → Persist, any failure → MarkFailed (the score records a
  stable code; the upload is kept);
* ``analyse`` runs in a container image (``infra/docker/scores.Dockerfile``: music21 and its
  dependencies); ``persist``, ``mark_failed`` and the EventBridge ``trigger`` are zip functions on
  the shared layers and never import music21;
* the EventBridge rule "Object Created under uploads/scores/" → trigger, with a dead-letter queue;
* the EventBridge rule on this machine's FAILED / TIMED_OUT / ABORTED executions → ``reconcile``
  (retries, its own dead-letter queue; the scores table only), which fails a score an execution left
  queued/processing outside its Catch (``melody.scores.reconcile``); alarms on the scores it fails and
  on its dead-letter queue, to the pipeline's alarm topic;
* ``functions/scores`` (the API) creates upload forms, lists and shows scores, signs short-lived
  download URLs and deletes a user's score (its upload, original and its own results under
  ``scores/<user>/<score>/``; legacy results shared by content hash stay); it never starts executions
  (the trigger does, once the file has landed).
"""

from __future__ import annotations

from aws_cdk import Duration, IgnoreMode, RemovalPolicy
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn

import melody_infra.paths  # noqa: F401  (puts layers/shared/python on sys.path)
from melody.scores.models import ORIGINALS_PREFIX, RESULTS_PREFIX, UPLOAD_PREFIX
from melody.scores.trigger import score_upload_event_pattern
from melody_infra.constructs import MelodyFunction, env_name
from melody_infra.constructs.reconciler import ExecutionReconciler
from melody_infra.nag import acknowledge, nag_ref
from melody_infra.paths import REPO_ROOT
from melody_infra.stacks.data import DataStack

__all__ = ["SCORES_ROUTES", "SCORE_STEPS", "ScorePipeline", "add_score_pipeline", "add_scores_routes"]

SCORE_ASL_FILE = REPO_ROOT / "statemachines" / "score_analysis.asl.json"
SCORE_DOCKERFILE = "infra/docker/scores.Dockerfile"
SCORE_IMAGE_FILES = [
    "*",
    "!pyproject.toml",
    "!README.md",
    "!layers/shared",
    "!layers/scores",
    "!functions/score_pipeline",
    f"!{SCORE_DOCKERFILE}",
    "**/__pycache__",
    "**/*.pyc",
    "**/.pytest_cache",
    "**/*.egg-info",
]
# step -> (substitution key in the ASL, packaging, memory MB, timeout s). The analyse timeout is
# measured: a 2 MB orchestral MusicXML takes well under it (benchmarks/score_analysis.py).
SCORE_STEPS: dict[str, tuple[str, str, int, int]] = {
    "analyse": ("ScoreAnalyseFunctionArn", "image", 3008, 600),
    "persist": ("ScorePersistFunctionArn", "zip", 512, 60),
    "mark_failed": ("ScoreMarkFailedFunctionArn", "zip", 512, 60),
}
SCORES_ROUTES = [
    "POST /api/v1/scores/uploads",
    "GET /api/v1/scores",
    "GET /api/v1/scores/{score_id}",
    "GET /api/v1/scores/{score_id}/download/{what}",
    "DELETE /api/v1/scores/{score_id}",
]


class ScorePipeline:
    """What :func:`add_score_pipeline` built (for grants and tests)."""

    def __init__(self, steps: dict[str, MelodyFunction], state_machine: sfn.StateMachine, trigger: MelodyFunction,
                 rule: events.Rule, dead_letters: sqs.Queue, reconcile: ExecutionReconciler | None = None) -> None:  # fmt: skip
        self.steps = steps
        self.state_machine = state_machine
        self.trigger = trigger
        self.rule = rule
        self.dead_letters = dead_letters
        self.reconcile = reconcile


def _ack_objects(fn: MelodyFunction, data: DataStack, keys: dict[str, str]) -> None:
    """Name and explain each object-prefix wildcard: ``keys`` maps "uploads"/"media" + prefix to why."""
    reasons = {}
    for where, why in keys.items():
        bucket, prefix = where.split(":", 1)
        arn = data.uploads_bucket.bucket_arn if bucket == "uploads" else data.media_bucket.bucket_arn
        reasons[f"AwsSolutions-IAM5[Resource::{nag_ref(arn, producer=data, consumer=fn)}/{prefix}*]"] = why
    table_arn = nag_ref(data.tables["scores_table"].table_arn, producer=data, consumer=fn)
    reasons[f"AwsSolutions-IAM5[Resource::{table_arn}/index/*]"] = (
        "The scores table's GSI (by_user: a user's scores newest first); the wildcard stays inside this one table."
    )
    acknowledge(fn.role, reasons)


_UPLOADS_WHY = "Score uploads are uploads/scores/<user>/<score>/<file>, created at run time; limited to that prefix."
_ORIGINALS_WHY = "Accepted score uploads are copied to originals/scores/<user>/<score>/<etag>/<file>; limited to that prefix."
_RESULTS_WHY = (
    "A score's analysis and renderings live under scores/<user>/<score>/ (older ones under scores/<content hash>/), "
    "decided at run time; limited to that prefix."
)
# The scores API also deletes there (DELETE /scores/{score_id}): the same prefixes, so the same findings.
_UPLOADS_DELETE_WHY = (
    "Score uploads are uploads/scores/<user>/<score>/<file>, created at run time: the API signs their upload forms and "
    "deletes a deleted score's upload; limited to that prefix of the uploads bucket."
)
_ORIGINALS_DELETE_WHY = (
    "Accepted score uploads are originals/scores/<user>/<score>/<etag>/<file>: the API signs their downloads and deletes "
    "a deleted score's original; limited to that prefix of the media bucket."
)
_RESULTS_DELETE_WHY = (
    "A score's analysis and renderings are scores/<user>/<score>/<file>, keys decided at run time: the API reads them, "
    "signs their downloads and deletes a deleted score's; the code deletes only keys under that score's own prefix "
    "(never the legacy scores/<content hash>/ ones); limited to that prefix of the media bucket."
)


def add_score_pipeline(pipeline, data: DataStack) -> ScorePipeline:  # noqa: ANN001
    """The score state machine, its steps, the upload trigger and its rule, in ``pipeline``'s stack."""
    config = pipeline.config
    steps: dict[str, MelodyFunction] = {}
    for name, (_, packaging, memory, timeout_s) in SCORE_STEPS.items():
        construct_id = "Score" + "".join(p.title() for p in name.split("_")) + "Step"
        image = None
        if packaging == "image":
            image = lambda_.DockerImageCode.from_image_asset(
                str(REPO_ROOT),
                file=SCORE_DOCKERFILE,
                cmd=[f"handler.{name}"],
                platform=ecr_assets.Platform.LINUX_ARM64,
                exclude=SCORE_IMAGE_FILES,
                ignore_mode=IgnoreMode.DOCKER,
            )
        fn = MelodyFunction(
            pipeline,
            construct_id,
            area="score_pipeline",
            service=f"score-pipeline-{name.replace('_', '-')}",
            config=config,
            layers=None if image else pipeline.layers,
            handler=f"handler.{name}",
            image_code=image,
            environment={"MELODY_WORK_DIR": "/tmp"},
            memory_size=memory,
            timeout=Duration.seconds(timeout_s),
            ephemeral_storage_mb=2048 if image else None,
            description=f"melody score pipeline: {name}",
        )
        fn.use_tables({"scores_table": data.tables["scores_table"]})
        fn.add_environment(env_name("media_bucket"), data.media_bucket.bucket_name)
        fn.add_to_policy(
            [
                iam.PolicyStatement(
                    sid="ReadOriginals",
                    actions=["s3:GetObject"],
                    resources=[data.media_bucket.arn_for_objects(f"{ORIGINALS_PREFIX}*")],
                ),
                iam.PolicyStatement(
                    sid="ReadWriteResults",
                    actions=["s3:GetObject", "s3:PutObject"],
                    resources=[data.media_bucket.arn_for_objects(f"{RESULTS_PREFIX}*")],
                ),
                # a missing key answers 404 (not 403) only with ListBucket: a missing original is object_missing
                iam.PolicyStatement(sid="ListMedia", actions=["s3:ListBucket"], resources=[data.media_bucket.bucket_arn]),
            ]
        )
        _ack_objects(fn, data, {f"media:{ORIGINALS_PREFIX}": _ORIGINALS_WHY, f"media:{RESULTS_PREFIX}": _RESULTS_WHY})
        steps[name] = fn

    execution_logs = logs.LogGroup(
        pipeline,
        "ScoreExecutionLogs",
        log_group_name=f"/aws/vendedlogs/states/{config.name('score-analysis')}",
        retention=config.log_retention,
        removal_policy=config.removal_policy,
    )
    role = iam.Role(
        pipeline,
        "ScoreStateMachineRole",
        assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
        description=f"melody score analysis state machine ({config.stage})",
    )
    machine = sfn.StateMachine(
        pipeline,
        "ScoreAnalysis",
        state_machine_name=config.name("score-analysis"),
        state_machine_type=sfn.StateMachineType.STANDARD,
        definition_body=sfn.DefinitionBody.from_string(SCORE_ASL_FILE.read_text()),
        definition_substitutions={SCORE_STEPS[name][0]: fn.function.function_arn for name, fn in steps.items()},
        role=role,
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=execution_logs, level=sfn.LogLevel.ALL, include_execution_data=True),
        removal_policy=RemovalPolicy.DESTROY,
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="InvokeScoreSteps", actions=["lambda:InvokeFunction"], resources=[fn.function.function_arn for fn in steps.values()]
        )
    )
    acknowledge(
        role,
        {
            "AwsSolutions-IAM5[Resource::*]": (
                "Step Functions logging and X-Ray support no resource-level permissions; Lambda invocation is scoped "
                "to the three score step functions."
            ),
        },
    )

    trigger = MelodyFunction(
        pipeline,
        "ScoreTriggerFunction",
        area="score_pipeline",
        service="score-pipeline-trigger",
        config=config,
        layers=pipeline.layers,
        handler="handler.trigger",
        environment={"MELODY_SCORE_STATE_MACHINE_ARN": machine.state_machine_arn},
        memory_size=512,
        timeout=Duration.seconds(30),
        description="melody score pipeline: S3 Object Created under uploads/scores/ -> start the score's analysis",
    )
    trigger.use_tables({"scores_table": data.tables["scores_table"]})
    trigger.add_environment(env_name("uploads_bucket"), data.uploads_bucket.bucket_name)
    trigger.add_environment(env_name("media_bucket"), data.media_bucket.bucket_name)
    trigger.add_to_policy(
        [
            iam.PolicyStatement(
                sid="HeadScoreUploads",  # HeadObject, and CopyObject's read of its source, are s3:GetObject
                actions=["s3:GetObject"],
                resources=[data.uploads_bucket.arn_for_objects(f"{UPLOAD_PREFIX}*")],
            ),
            iam.PolicyStatement(
                sid="CopyScoreOriginals",
                actions=["s3:PutObject"],
                resources=[data.media_bucket.arn_for_objects(f"{ORIGINALS_PREFIX}*")],
            ),
        ]
    )
    machine.grant_start_execution(trigger.role)
    _ack_objects(trigger, data, {f"uploads:{UPLOAD_PREFIX}": _UPLOADS_WHY, f"media:{ORIGINALS_PREFIX}": _ORIGINALS_WHY})

    dead_letters = sqs.Queue(
        pipeline,
        "ScoreTriggerDeadLetters",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
        removal_policy=config.removal_policy,
    )
    acknowledge(dead_letters, {"AwsSolutions-SQS3": "This queue IS the dead-letter queue of the score upload rule's target."})
    pattern = score_upload_event_pattern(data.uploads_bucket.bucket_name)
    rule = events.Rule(
        pipeline,
        "ScoreUploadCreated",
        description="uploads/scores/ Object Created in the uploads bucket -> the score pipeline trigger",
        event_pattern=events.EventPattern(source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern["detail"]),
    )
    rule.add_target(
        targets.LambdaFunction(trigger.function, dead_letter_queue=dead_letters, retry_attempts=8, max_event_age=Duration.hours(2))
    )
    # executions that end outside the Catch (States.Runtime, TIMED_OUT, ABORTED): fail their score
    return ScorePipeline(steps, machine, trigger, rule, dead_letters, _score_reconcile(pipeline, data, machine))


def _score_reconcile(pipeline, data: DataStack, machine: sfn.StateMachine) -> ExecutionReconciler:  # noqa: ANN001
    """FAILED / TIMED_OUT / ABORTED executions of the score machine only -> ``handler.reconcile``, which
    fails a score still queued/processing (``melody.scores.reconcile``): the scores table only; its
    alarms go to the pipeline's topic (its KMS key already lets CloudWatch publish)."""
    scores = data.tables["scores_table"]
    reconciler = ExecutionReconciler(
        pipeline,
        "ScoreReconcile",
        config=pipeline.config,
        layers=pipeline.layers,
        area="score_pipeline",
        service="score-pipeline-reconcile",
        environment={env_name("scores_table"): scores.table_name},
        # Read the score, then save it over the version read (DynamoScoreStore.transition is a conditional
        # PutItem): nothing else (no index, no other table, no bucket: the upload and original are kept).
        statement=iam.PolicyStatement(
            sid="ReconcileScores", actions=["dynamodb:GetItem", "dynamodb:PutItem"], resources=[scores.table_arn]
        ),
        machines=[machine],
        what="score analysis",
    )
    reconciler.add_alarms(pipeline.alarm_topic)
    return reconciler


def add_scores_routes(api, data: DataStack) -> MelodyFunction:  # noqa: ANN001
    """``functions/scores`` behind the JWT authorizer: upload forms, the user's scores, analyses, downloads, deletes.

    A delete removes the score's upload, original and results: ``scores/*`` is granted because the
    keys are decided at run time; the code deletes only under the score's own ``scores/<user>/<score>/``
    (legacy results under ``scores/<content hash>/`` are shared and stay). The record's DeleteItem comes
    with the table's read/write grant."""
    fn = api.add_lambda_route_group(
        "scores", routes=SCORES_ROUTES, protected=True, description="Scores: uploads, analyses, downloads (never music21)"
    )
    # the rate-limit table: per-user limits on score uploads (the auth limiter's counters)
    fn.use_tables({"scores_table": data.tables["scores_table"], "rate_limit_table": data.tables["rate_limit_table"]})
    fn.add_environment(env_name("uploads_bucket"), data.uploads_bucket.bucket_name)
    fn.add_environment(env_name("media_bucket"), data.media_bucket.bucket_name)
    fn.add_to_policy(
        [
            # presigned POST/GET are signed with this role: it must hold the permissions itself
            iam.PolicyStatement(
                sid="PresignScoreUploads", actions=["s3:PutObject"], resources=[data.uploads_bucket.arn_for_objects(f"{UPLOAD_PREFIX}*")]
            ),
            iam.PolicyStatement(
                sid="ReadScoreResults",  # GET /scores/{id} reads analysis.json; downloads are presigned GETs
                actions=["s3:GetObject"],
                resources=[
                    data.media_bucket.arn_for_objects(f"{RESULTS_PREFIX}*"),
                    data.media_bucket.arn_for_objects(f"{ORIGINALS_PREFIX}*"),
                ],
            ),
            iam.PolicyStatement(sid="ListMedia", actions=["s3:ListBucket"], resources=[data.media_bucket.bucket_arn]),
            iam.PolicyStatement(
                sid="DeleteScoreObjects",  # DELETE /scores/{score_id}: the score's upload, original and own results
                actions=["s3:DeleteObject"],
                resources=[
                    data.uploads_bucket.arn_for_objects(f"{UPLOAD_PREFIX}*"),
                    data.media_bucket.arn_for_objects(f"{ORIGINALS_PREFIX}*"),
                    data.media_bucket.arn_for_objects(f"{RESULTS_PREFIX}*"),
                ],
            ),
        ]
    )
    _ack_objects(
        fn,
        data,
        {
            f"uploads:{UPLOAD_PREFIX}": _UPLOADS_DELETE_WHY,
            f"media:{RESULTS_PREFIX}": _RESULTS_DELETE_WHY,
            f"media:{ORIGINALS_PREFIX}": _ORIGINALS_DELETE_WHY,
        },
    )
    return fn
