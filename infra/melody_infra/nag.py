"""cdk-nag (v3) wiring: the AWS Solutions pack on the whole app, and acknowledgements with reasons.

Every acknowledgement goes through :func:`acknowledge`, which refuses an empty reason, so each
exception to the rules is written down next to the construct it applies to.
"""

from __future__ import annotations

import hashlib
import json
import re

from aws_cdk import Acknowledgment, Stack, Validations
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



def _unique_id(components: list[str]) -> str:
    """aws-cdk-lib's ``makeUniqueId``: the components' alphanumerics + 8 hex of md5 over the path."""
    digest = hashlib.md5("/".join(components).encode()).hexdigest()[:8].upper()
    human = "".join(re.sub(r"[^A-Za-z0-9]", "", c) for c in components)[:240]
    return human + digest


def nag_ref(value: str, *, producer: IConstruct, consumer: IConstruct) -> str:
    """How cdk-nag spells ``value`` (an ARN/name token of ``producer``) in a finding on ``consumer``.

    In the same stack: ``<LogicalId.Arn>``. From another stack: the export aws-cdk-lib generates for
    the reference, ``<producer stack name>:ExportsOutputFnGetAtt<LogicalId><Attr><hash>``. Should
    aws-cdk-lib ever name exports differently, the acknowledgement stops matching and the synth fails
    loudly (cdk-nag reports the finding), so this cannot hide anything.
    """
    stack = Stack.of(producer)
    resolved = stack.resolve(value)
    if Stack.of(consumer) is stack:
        if "Fn::GetAtt" in resolved:
            logical_id, attribute = resolved["Fn::GetAtt"]
            return f"<{logical_id}.{attribute}>"
        return f"<{resolved['Ref']}>"
    output_id = "Output" + json.dumps(resolved, separators=(",", ":"))
    return f"{stack.stack_name}:{_unique_id(['Exports', output_id])}"
