"""The neural separation step (issue 14): where the operator's ONNX model runs in AWS.

Off unless the operator names their weights (context ``neural_weights_url`` and
``neural_weights_sha256``; ``neural_manifest_url`` when ``model.json`` does not sit beside the
model at the same URL). Then:

* **default: a container-image Lambda** (``infra/docker/neural.Dockerfile``, arm64, 10 GB memory
  = 6 vCPUs, 10 GB of /tmp, 15 minutes): the weights are baked into the image at build time and
  checked against the SHA-256 there and again at load. No VPC, scales to zero, starts in seconds;
  CPU inference only (Lambda has no GPU).
* **``-c neural_gpu=true``: AWS Batch on a GPU instance** (g5/g6, x86_64, onnxruntime-gpu): a
  managed EC2 compute environment that scales from 0 vCPUs, a job queue and a job definition
  running the same image's ``batch_separate`` entry point. The state machine's ``SeparateNeural``
  task then submits a Batch job with a task token (``batch:submitJob.waitForTaskToken``) and the
  container reports its result with ``SendTaskSuccess`` / ``SendTaskFailure``, so the rest of
  the ASL file (ResultSelector shape, Catch to MarkFailed) is unchanged.

Cost per audio minute of each: ``infra/README.md`` ("Neural separation").
"""

from __future__ import annotations

import copy
from typing import Any

from aws_cdk import Duration, IgnoreMode, Size
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from melody_infra.config import MelodyConfig
from melody_infra.constructs.function import env_name
from melody_infra.nag import acknowledge, nag_ref
from melody_infra.paths import REPO_ROOT
from melody_infra.stacks.data import UPLOADS_PREFIX, DataStack

NEURAL_DOCKERFILE = "infra/docker/neural.Dockerfile"
NEURAL_IMAGE_FILES = [
    "*",
    "!pyproject.toml",
    "!README.md",
    "!layers/shared",
    "!layers/audio",
    "!functions/pipeline",
    f"!{NEURAL_DOCKERFILE}",
    "**/__pycache__",
    "**/*.pyc",
    "**/*.egg-info",
]
MODEL_DIR = "/opt/melody-model"  # where the image bakes model.onnx + model.json
LAMBDA_MEMORY_MB = 10240  # Lambda's maximum: 6 vCPUs; the memory guard budgets 90 % of it
GPU_INSTANCE_TYPES = ("g5.xlarge", "g6.xlarge")  # one NVIDIA A10G / L4 (24 GB), 4 vCPUs, 16 GB
GPU_MAX_VCPUS = 16
JOB_TIMEOUT = Duration.minutes(30)
JOB_TABLES = ("jobs_table", "results_table", "library_table")


def _context(scope: Construct, key: str) -> Any:
    value = scope.node.try_get_context(key)
    return None if value in (None, "") else value


def _as_bool(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on") if value is not None else False


class NeuralSeparation(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: MelodyConfig, data: DataStack) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.data = data
        self.weights_url: str | None = _context(self, "neural_weights_url")
        self.weights_sha256: str | None = _context(self, "neural_weights_sha256")
        self.manifest_url: str | None = _context(self, "neural_manifest_url")
        self.enabled = bool(self.weights_url and self.weights_sha256)
        if bool(self.weights_url) != bool(self.weights_sha256):
            raise ValueError("the neural engine needs both -c neural_weights_url=... and -c neural_weights_sha256=...")
        if self.weights_sha256 and (len(self.weights_sha256) != 64 or not all(c in "0123456789abcdefABCDEF" for c in self.weights_sha256)):
            raise ValueError("neural_weights_sha256 must be 64 hex digits")
        self.gpu = self.enabled and _as_bool(_context(self, "neural_gpu"))
        self.function: Any = None  # the Lambda (CPU mode): a MelodyFunction, set by the pipeline stack
        self.job_queue: batch.JobQueue | None = None
        self.job_definition: batch.EcsJobDefinition | None = None
        if self.gpu:
            self._batch()

    # -- the image -------------------------------------------------------------------------------

    def image_build_args(self, *, gpu: bool = False) -> dict[str, str]:
        args = {"WEIGHTS_URL": str(self.weights_url), "WEIGHTS_SHA256": str(self.weights_sha256).lower()}
        if self.manifest_url:
            args["MANIFEST_URL"] = str(self.manifest_url)
        if gpu:
            args["ONNXRUNTIME_PACKAGE"] = "onnxruntime-gpu[cuda,cudnn]==1.32.0"
            args["PYTHON_IMAGE"] = "public.ecr.aws/lambda/python:3.13-x86_64"
            args["FFMPEG_URL"] = "https://johnvansickle.com/ffmpeg/releases/ffmpeg-release-amd64-static.tar.xz"
        return args

    def lambda_image(self) -> lambda_.DockerImageCode:
        return lambda_.DockerImageCode.from_image_asset(
            str(REPO_ROOT),
            file=NEURAL_DOCKERFILE,
            cmd=["handler.separate"],
            platform=ecr_assets.Platform.LINUX_ARM64,
            build_args=self.image_build_args(),
            exclude=NEURAL_IMAGE_FILES,
            ignore_mode=IgnoreMode.DOCKER,
        )

    def environment(self) -> dict[str, str]:
        return {
            "MELODY_NEURAL_WEIGHTS": MODEL_DIR,
            "MELODY_NEURAL_WEIGHTS_SHA256": str(self.weights_sha256).lower(),
            "MELODY_NEURAL_DEVICE": "cuda" if self.gpu else "cpu",
            "MELODY_ENGINES": "dsp,neural",
        }

    # -- the state machine -----------------------------------------------------------------------

    def substitutions(self, fallback_function_arn: str) -> dict[str, str]:
        """``${NeuralSeparateFunctionArn}``: the neural Lambda; without one, the dsp separate function
        (no job can ask for ``neural`` then: the API does not offer it, see ``MELODY_ENGINES``)."""
        if self.function is not None:
            return {"NeuralSeparateFunctionArn": self.function.function.function_arn}
        if self.gpu:  # the Lambda task is replaced by a Batch task; the placeholder is gone
            return {}
        return {"NeuralSeparateFunctionArn": fallback_function_arn}

    def definition(self, document: dict[str, Any]) -> dict[str, Any]:
        """The ASL document, with ``SeparateNeural`` as a Batch job in GPU mode (else unchanged)."""
        if not self.gpu:
            return document
        assert self.job_queue is not None and self.job_definition is not None
        document = copy.deepcopy(document)
        for state in _all_states(document):
            task = state.get("SeparateNeural")
            if task is None:
                continue
            task["Resource"] = "arn:aws:states:::batch:submitJob.waitForTaskToken"
            task["Comment"] = "Separate with the operator's ONNX model on a GPU (AWS Batch); the job reports back with the task token."
            task["Parameters"] = {
                "JobName": "melody-neural-separate",
                "JobQueue": self.job_queue.job_queue_arn,
                "JobDefinition": self.job_definition.job_definition_arn,
                "ContainerOverrides": {
                    "Environment": [
                        {"Name": "MELODY_TASK_TOKEN", "Value.$": "$$.Task.Token"},
                        {"Name": "MELODY_STEP_INPUT", "Value.$": "States.JsonToString($)"},
                    ]
                },
            }
            task["ResultSelector"] = {"stems.$": "$"}
            task["TimeoutSeconds"] = int(JOB_TIMEOUT.to_seconds())
            task["Retry"] = [
                {"ErrorEquals": ["Batch.AWSBatchException", "Batch.ServerException"], "IntervalSeconds": 5, "MaxAttempts": 3,
                 "BackoffRate": 2, "JitterStrategy": "FULL"},
            ]
        return document

    def grant_to_state_machine(self, role: iam.IRole) -> None:
        if self.function is not None:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="InvokeNeuralSeparate", actions=["lambda:InvokeFunction"], resources=[self.function.function.function_arn]
                )
            )
        if self.gpu:
            assert self.job_queue is not None and self.job_definition is not None
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="SubmitNeuralJobs",
                    actions=["batch:SubmitJob"],
                    resources=[self.job_queue.job_queue_arn, self.job_definition.job_definition_arn],
                )
            )

    # -- GPU mode: AWS Batch ---------------------------------------------------------------------

    def _batch(self) -> None:
        c = self.config
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=1,  # instances pull the image from ECR and call DynamoDB/S3/Step Functions
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="gpu", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22),
            ],
        )
        flow_logs = logs.LogGroup(self, "VpcFlowLogs", retention=c.log_retention, removal_policy=c.removal_policy)
        vpc.add_flow_log("FlowLogs", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
        vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        vpc.add_gateway_endpoint("DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)
        security_group = ec2.SecurityGroup(self, "GpuSecurityGroup", vpc=vpc, allow_all_outbound=True,
                                           description="melody neural separation (GPU): outbound only")
        environment = batch.ManagedEc2EcsComputeEnvironment(
            self,
            "GpuCompute",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[security_group],
            instance_types=[ec2.InstanceType(t) for t in GPU_INSTANCE_TYPES],
            use_optimal_instance_classes=False,
            minv_cpus=0,  # nothing runs (or costs) while no job waits
            maxv_cpus=GPU_MAX_VCPUS,
            spot=False,
        )
        self.job_queue = batch.JobQueue(self, "GpuQueue", priority=1)
        self.job_queue.add_compute_environment(environment, 1)
        self.job_role = iam.Role(self, "JobRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
                                 description=f"melody neural separation job ({c.stage})")
        self.job_logs = logs.LogGroup(self, "JobLogs", retention=c.log_retention, removal_policy=c.removal_policy)
        image = ecs.ContainerImage.from_asset(
            str(REPO_ROOT),
            file=NEURAL_DOCKERFILE,
            platform=ecr_assets.Platform.LINUX_AMD64,
            build_args=self.image_build_args(gpu=True),
            exclude=NEURAL_IMAGE_FILES,
            ignore_mode=IgnoreMode.DOCKER,
        )
        container = batch.EcsEc2ContainerDefinition(
            self,
            "Container",
            image=image,
            cpu=4,
            memory=Size.mebibytes(15 * 1024),
            gpu=1,
            command=["python", "-m", "batch_separate"],
            job_role=self.job_role,
            environment={**self.environment(), **self._data_environment(), "MELODY_STAGE": c.stage, "MELODY_WORK_DIR": "/tmp",
                         "POWERTOOLS_SERVICE_NAME": "melody-pipeline-neural-gpu"},
            logging=ecs.LogDriver.aws_logs(stream_prefix="neural", log_group=self.job_logs),
        )
        self.job_definition = batch.EcsJobDefinition(self, "GpuJob", container=container, timeout=JOB_TIMEOUT,
                                                     retry_attempts=2)
        self._grant_job_data()
        self._acknowledge()

    def _acknowledge(self) -> None:
        d = self.data

        def ref(value: str) -> str:
            return nag_ref(value, producer=d, consumer=self.job_role)

        acknowledge(
            self,
            {
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role]": (
                    "The Batch compute environment's instance role: ECS container instances need this AWS managed policy "
                    "to register with the cluster Batch manages and pull the job image."
                ),
                "AwsSolutions-IAM5[Resource::*]": (
                    "The job's execution role: ecr:GetAuthorizationToken and the log stream actions of the awslogs "
                    "driver support no resource-level permissions."
                ),
                f"AwsSolutions-IAM5[Resource::{ref(d.tables['jobs_table'].table_arn)}/index/*]": (
                    "The jobs table's GSIs come with its read/write grant (the separate step updates job progress); "
                    "the wildcard stays inside this one table."
                ),
                f"AwsSolutions-IAM5[Resource::{ref(d.tables['library_table'].table_arn)}/index/*]": (
                    "The library table's GSIs come with its read/write grant (a succeeded upload becomes a library "
                    "entry); the wildcard stays inside this one table."
                ),
                f"AwsSolutions-IAM5[Resource::{ref(d.uploads_bucket.bucket_arn)}/{UPLOADS_PREFIX}*]": (
                    "Upload object keys are uploads/<user>/<job>/<file>, created at run time; the wildcard is limited "
                    "to the uploads/ prefix of the uploads bucket."
                ),
                f"AwsSolutions-IAM5[Resource::{ref(d.media_bucket.bucket_arn)}/*]": (
                    "Stems are written under content-hash keys decided at run time; the wildcard covers objects of "
                    "the media bucket only (no bucket-level or delete actions)."
                ),
            },
        )

    def _data_environment(self) -> dict[str, str]:
        d = self.data
        env = {env_name(name): d.tables[name].table_name for name in JOB_TABLES}
        env[env_name("uploads_bucket")] = d.uploads_bucket.bucket_name
        env[env_name("media_bucket")] = d.media_bucket.bucket_name
        return env

    def _grant_job_data(self) -> None:
        """What the separate step touches: the job/result/library records, the upload, the media objects."""
        d = self.data
        for name in JOB_TABLES:
            d.tables[name].grant_read_write_data(self.job_role)
        self.job_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadUploads", actions=["s3:GetObject"], resources=[d.uploads_bucket.arn_for_objects(f"{UPLOADS_PREFIX}*")]
            )
        )
        self.job_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadWriteMedia", actions=["s3:GetObject", "s3:PutObject"], resources=[d.media_bucket.arn_for_objects("*")]
            )
        )

    def grant_job_to_report(self, state_machine_arn: str) -> None:
        """The Batch job answers the waiting task itself."""
        if self.gpu:
            self.job_role.add_to_principal_policy(
                iam.PolicyStatement(sid="ReportTaskResult", actions=["states:SendTaskSuccess", "states:SendTaskFailure"],
                                    resources=[state_machine_arn])
            )


def _all_states(document: dict[str, Any]):
    yield document.get("States", {})
    for state in document.get("States", {}).values():
        for branch in state.get("Branches", []) or []:
            yield from _all_states(branch)
