"""One stack per concern: data, auth, api, pipeline (Step Functions), catalog (Aurora), web (S3 + CloudFront)."""

from melody_infra.stacks.api import ApiStack, RouteGroup
from melody_infra.stacks.auth import AuthStack
from melody_infra.stacks.catalog import CatalogStack, add_catalog_routes, allow_catalog_reads
from melody_infra.stacks.data import DataStack
from melody_infra.stacks.pipeline import PipelineStack, add_conversions_routes
from melody_infra.stacks.web import WebStack

__all__ = [
    "ApiStack",
    "AuthStack",
    "CatalogStack",
    "DataStack",
    "PipelineStack",
    "RouteGroup",
    "WebStack",
    "add_conversions_routes",
    "add_catalog_routes",
    "allow_catalog_reads",
]
