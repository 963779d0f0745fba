"""Builds the Melody Studio CDK app (used by ``infra/app.py`` and by the infra tests)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from aws_cdk import App, Environment, Tags
from cdk_nag import AwsSolutionsChecks

from melody_infra.config import MelodyConfig
from melody_infra.nag import enable_nag
from melody_infra.stacks import (
    ApiStack,
    AuthStack,
    CatalogStack,
    DataStack,
    PipelineStack,
    WebStack,
    add_catalog_routes,
    add_conversions_routes,
    allow_catalog_reads,
)
from melody_infra.stacks.developer import add_developer_routes
from melody_infra.stacks.discover import add_discover
from melody_infra.stacks.scores import add_score_pipeline, add_scores_routes


@dataclass
class MelodyApp:
    app: App
    config: MelodyConfig
    data: DataStack
    auth: AuthStack
    api: ApiStack
    pipeline: PipelineStack
    catalog: CatalogStack
    web: WebStack
    nag_pack: AwsSolutionsChecks | None = None


def build_app(
    *, context: dict[str, Any] | None = None, outdir: str | None = None, nag: bool = True
) -> MelodyApp:
    app = App(context=context or None, outdir=outdir)
    config = MelodyConfig.from_node(app.node)
    env = Environment(
        account=os.environ.get("CDK_DEPLOY_ACCOUNT") or os.environ.get("CDK_DEFAULT_ACCOUNT"),
        region=os.environ.get("CDK_DEPLOY_REGION") or os.environ.get("CDK_DEFAULT_REGION"),
    )
    common = {"env": env, "termination_protection": config.is_prod}

    data = DataStack(app, "MelodyData", config=config, stack_name=config.name("data"),
                     description="Melody Studio: DynamoDB tables and S3 buckets", **common)  # fmt: skip
    auth = AuthStack(app, "MelodyAuth", config=config, stack_name=config.name("auth"),
                     description="Melody Studio: access-token signing key (Secrets Manager)", **common)  # fmt: skip
    api = ApiStack(app, "MelodyApi", config=config, data=data, signing_key_secret=auth.signing_key_secret,
                   origin_verify_secret=auth.origin_verify_secret,
                   stack_name=config.name("api"), description="Melody Studio: HTTP API, JWT authorizer, functions",
                   **common)  # fmt: skip
    pipeline = PipelineStack(app, "MelodyPipeline", config=config, data=data, stack_name=config.name("pipeline"),
                             description="Melody Studio: audio pipeline (Step Functions, step functions, upload trigger)",
                             **common)  # fmt: skip
    catalog = CatalogStack(app, "MelodyCatalog", config=config, stack_name=config.name("catalog"),
                           description="Melody Studio: song catalog (Aurora PostgreSQL Serverless v2, Data API)",
                           **common)  # fmt: skip
    # The API's functions live in MelodyApi (issuer/authorizer/integrations would otherwise cycle);
    # they reference the pipeline's state machine and the catalog cluster, so MelodyApi deploys after both.
    conversions = add_conversions_routes(api, pipeline, data)
    add_catalog_routes(api, catalog, data, pipeline)
    allow_catalog_reads(conversions, catalog)
    # the developer API: keys and usage (JWT), the B2B routes (API key checked in the function)
    add_developer_routes(api, pipeline, catalog, data)
    # Discover: sources, follows, the feed (JWT), and the scheduled crawler (issue 17)
    add_discover(api, catalog, data)
    # Scores (issue 12): the score analysis state machine in MelodyPipeline, /scores in MelodyApi
    add_score_pipeline(pipeline, data)
    add_scores_routes(api, data)
    # persist writes a catalog track's analysed attributes (bpm, key, energy...) back to its row
    allow_catalog_reads(pipeline.steps["persist"], catalog)
    allow_catalog_reads(api.functions["system"], catalog)  # /system/health checks the catalog too
    web = WebStack(app, "MelodyWeb", config=config, api_endpoint=api.http_api.api_endpoint,
                   origin_verify_secret=auth.origin_verify_secret,
                   stack_name=config.name("web"), description="Melody Studio: PWA on S3 + CloudFront (same-origin /api)",
                   **common)  # fmt: skip

    Tags.of(app).add("project", "melody-studio")
    Tags.of(app).add("stage", config.stage)
    pack = enable_nag(app) if nag else None
    return MelodyApp(
        app=app, config=config, data=data, auth=auth, api=api, pipeline=pipeline, catalog=catalog, web=web,
        nag_pack=pack,
    )
