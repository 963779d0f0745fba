"""Executions that end outside their Catch fail what they left running (``melody.conversions.reconcile``).

One construct for every state machine whose records (jobs, renditions, scores) would otherwise stay
``processing``: an EventBridge rule on the machines' FAILED / TIMED_OUT / ABORTED status changes →
a ``handler.reconcile`` function (retries, its own dead-letter queue, which is also its asynchronous
on-failure destination), and two alarms: records the reconciler failed (always a system failure)
and events it could not handle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

import melody_infra.paths  # noqa: F401  (puts layers/shared/python on sys.path)
from melody.conversions.metrics import FAILURE_METRIC
from melody.conversions.reconcile import ended_execution_pattern
from melody_infra.constructs.function import METRICS_NAMESPACE, MelodyFunction
from melody_infra.nag import acknowledge

if TYPE_CHECKING:
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_sns as sns
    from aws_cdk import aws_stepfunctions as sfn

    from melody_infra.config import MelodyConfig
    from melody_infra.constructs.layers import MelodyLayers

__all__ = ["ExecutionReconciler", "add_threshold_alarms"]


def add_threshold_alarms(
    scope: Construct, alarms: dict[str, tuple[cloudwatch.IMetric, str]], topic: sns.ITopic, stage: str
) -> None:
    """``construct id -> (metric, description)``: an alarm at ≥ 1 in one period (missing data is fine) → ``topic``."""
    action = cw_actions.SnsAction(topic)
    for construct_id, (metric, description) in alarms.items():
        alarm = cloudwatch.Alarm(
            scope,
            construct_id,
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"Melody ({stage}): {description}",
        )
        alarm.add_alarm_action(action)


class ExecutionReconciler(Construct):
    """The rule, the ``handler.reconcile`` function of ``functions/<area>``, its dead-letter queue.

    ``statement`` is the function's only data permission (read the record, write it conditionally);
    ``what`` names the machines in descriptions ("audio pipeline / renditions", "score analysis")."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: MelodyConfig,
        layers: MelodyLayers,
        area: str,
        service: str,
        environment: dict[str, str],
        statement: iam.PolicyStatement,
        machines: list[sfn.IStateMachine],
        what: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config, self._service, self._what = config, service, what
        self.function = MelodyFunction(
            self,
            "Function",
            area=area,
            service=service,
            config=config,
            layers=layers,
            handler="handler.reconcile",
            environment={"MELODY_WORK_DIR": "/tmp", **environment},
            memory_size=512,
            timeout=Duration.seconds(30),
            description=f"melody {what}: an execution ended outside its Catch -> fail what it left running",
        )
        self.function.add_to_policy([statement])
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=config.removal_policy,
        )
        acknowledge(
            self.dead_letters,
            {
                "AwsSolutions-SQS3": (
                    f"This queue IS the dead-letter queue: of the {what} ended-executions rule's Lambda target and of "
                    "the reconcile function's asynchronous invocations; it is alarmed on and inspected by hand."
                ),
            },
        )
        self.function.function.configure_async_invoke(
            on_failure=destinations.SqsDestination(self.dead_letters), retry_attempts=2, max_event_age=Duration.hours(6)
        )
        pattern = ended_execution_pattern([m.state_machine_arn for m in machines])
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"{what} executions FAILED, TIMED_OUT or ABORTED -> fail what they left running",
            event_pattern=events.EventPattern(
                source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern["detail"]
            ),
        )
        self.rule.add_target(
            targets.LambdaFunction(
                self.function.function, dead_letter_queue=self.dead_letters, retry_attempts=8, max_event_age=Duration.hours(24)
            )
        )

    def add_alarms(self, topic: sns.ITopic) -> None:
        """Records the reconciler failed (its ``PipelineFailures``, always ``kind=system``) and its dead letters."""
        period = Duration.minutes(5)
        failures = cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=FAILURE_METRIC,
            dimensions_map={"service": f"melody-{self._service}", "kind": "system"},
            statistic=cloudwatch.Stats.SUM,
            period=period,
        )
        add_threshold_alarms(
            self,
            {
                "FailuresAlarm": (
                    failures,
                    f"{self._what} executions ended outside their Catch (States.Runtime, timeout, stop); records failed",
                ),
                "DeadLettersAlarm": (
                    self.dead_letters.metric_approximate_number_of_messages_visible(period=period),
                    f"ended {self._what} executions could not be reconciled (records may show processing; see the DLQ)",
                ),
            },
            topic,
            self._config.stage,
        )
