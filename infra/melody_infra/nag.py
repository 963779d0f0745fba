"""cdk-nag (v3) wiring: the AWS Solutions pack on the whole app, and acknowledgements with reasons.

Every acknowledgement goes through :func:`acknowledge`, which refuses an empty reason, so each
exception to the rules is written down next to the construct it applies to.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def enable_nag(app: IConstruct, *, verbose: bool = False) -> AwsSolutionsChecks:
    """Run the AWS Solutions checks at synth; any unacknowledged error fails the synth.

    The returned pack can also re-check a tree without synthesising: ``pack.validate_scope(app)``.
    """
    pack = AwsSolutionsChecks(app, verbose=verbose)
    Validations.of(app).add_plugins(pack)
    return pack


def acknowledge(scope: IConstruct, rules: dict[str, str]) -> None:
    """Acknowledge cdk-nag findings (``rule id -> reason``) on ``scope`` and everything below it."""
    for rule_id, reason in rules.items():
        if not reason or len(reason.strip()) < 20:
            raise ValueError(f"acknowledging {rule_id} needs a written reason")
        Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason.strip()))


LAMBDA_BASIC_EXECUTION = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
