"""One stack per concern. Later: pipeline (Step Functions), catalog (Aurora), web (S3 + CloudFront)."""

from melody_infra.stacks.api import ApiStack, RouteGroup
from melody_infra.stacks.auth import AuthStack
from melody_infra.stacks.data import DataStack

__all__ = ["ApiStack", "AuthStack", "DataStack", "RouteGroup"]
