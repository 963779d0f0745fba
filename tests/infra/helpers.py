"""Small readers over synthesised templates."""

from __future__ import annotations

import json


def resources(template, type_: str) -> dict[str, dict]:
    return template.find_resources(type_)


def function_by_service(template, service: str) -> tuple[str, dict]:
    for logical_id, res in resources(template, "AWS::Lambda::Function").items():
        env = res["Properties"].get("Environment", {}).get("Variables", {})
        if env.get("POWERTOOLS_SERVICE_NAME") == service:
            return logical_id, res
    raise AssertionError(f"no function for service {service}")


def role_policy_statements(template, function: dict) -> list[dict]:
    """The statements of every AWS::IAM::Policy attached to the function's role."""
    role_ref = function["Properties"]["Role"]["Fn::GetAtt"][0]
    statements: list[dict] = []
    for res in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_ref} in res["Properties"]["Roles"]:
            statements.extend(res["Properties"]["PolicyDocument"]["Statement"])
    return statements


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def dump(value) -> str:
    return json.dumps(value, sort_keys=True)




def assert_private_dead_letter_queue(template, dlq_id: str, rule_id: str, function_id: str) -> None:
    """The queue is encrypted, only the rule may send to it, and the function's failed asynchronous
    runs (after Lambda's own retries) land in it too."""
    assert resources(template, "AWS::SQS::Queue")[dlq_id]["Properties"]["SqsManagedSseEnabled"] is True
    policies = [
        p["Properties"] for p in resources(template, "AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": dlq_id}]
    ]  # fmt: skip
    statements = [{k: v for k, v in s.items() if k != "Sid"} for p in policies for s in p["PolicyDocument"]["Statement"]]
    assert {"Effect": "Allow", "Action": "sqs:SendMessage", "Principal": {"Service": "events.amazonaws.com"},
            "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}},
            "Resource": {"Fn::GetAtt": [dlq_id, "Arn"]}} in statements  # fmt: skip
    (invoke_config,) = [
        c["Properties"] for c in resources(template, "AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": function_id}
    ]  # fmt: skip
    assert invoke_config["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [dlq_id, "Arn"]}
