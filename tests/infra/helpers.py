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


