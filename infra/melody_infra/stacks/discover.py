"""Discover in AWS (issue 17): ``functions/discover`` serves ``/discover/*`` and ``/admin/sources*``
behind the JWT authorizer, and ``functions/discover_crawler`` runs on an EventBridge Scheduler
schedule.

Both live in ``MelodyApi`` beside the other catalog readers (the catalog cluster is referenced the
same way: Data API + its secret, nothing in the VPC). The crawler is not an API function:

* no SnapStart and no alias (nothing waits on its cold start; the schedule invokes ``$LATEST``);
* its own timeout (a crawl of every due source, politely spaced per host, takes minutes, not the
  API's seconds) and a reserved concurrency of 1: two crawls at once would each keep their own
  per-host politeness and together hit a host twice as often, and a slow run must not overlap the next;
* no Lambda retries of a failed run (the next schedule picks the due sources up again; the source
  rows hold the backoff and the health operators see);
* internet egress: it runs outside the VPC (the catalog is reached through the RDS Data API), and the
  SSRF guard in ``melody.discover.urls`` refuses private, link-local and reserved addresses.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets

from melody_infra.constructs import MelodyFunction
from melody_infra.nag import acknowledge
from melody_infra.stacks.catalog import CatalogStack, allow_catalog_reads
from melody_infra.stacks.data import DataStack

__all__ = [
    "CRAWLER_RESERVED_CONCURRENCY",
    "CRAWLER_TIMEOUT",
    "CRAWL_SCHEDULE_MINUTES",
    "DISCOVER_ROUTES",
    "add_discover",
]

DISCOVER_ROUTES = [
    "GET /api/v1/discover/sources",
    "POST /api/v1/discover/sources",
    "GET /api/v1/discover/follows",
    "PUT /api/v1/discover/follows/{kind}/{target_id}",
    "DELETE /api/v1/discover/follows/{kind}/{target_id}",
    "GET /api/v1/discover/feed",
    # operators (AdminUser: the admin role in the access token; the JWT authorizer first)
    "POST /api/v1/admin/sources",
    "GET /api/v1/admin/sources",
    "GET /api/v1/admin/sources/{source_id}",
    "PATCH /api/v1/admin/sources/{source_id}",
    "DELETE /api/v1/admin/sources/{source_id}",
    "POST /api/v1/admin/sources/{source_id}/crawl",
]
# Each run crawls the sources that are due (MELODY_DISCOVER_CRAWL_INTERVAL_S after their last
# crawl, later while one backs off), so the schedule is finer than the interval.
CRAWL_SCHEDULE_MINUTES = 15
CRAWLER_TIMEOUT = Duration.minutes(10)
CRAWLER_RESERVED_CONCURRENCY = 1
# "Crawl one source now" runs inside the API function (a single politely fetched feed).
API_TIMEOUT = Duration.seconds(29)


def add_discover(api, catalog: CatalogStack, data: DataStack) -> dict[str, object]:  # noqa: ANN001
    """The discover API function with its routes, the crawler function and its schedule."""
    fn = api.add_lambda_route_group(
        "discover",
        routes=DISCOVER_ROUTES,
        protected=True,
        timeout=API_TIMEOUT,
        description="Discover: sources, follows, the feed (and the operators' source admin)",
    )
    allow_catalog_reads(fn, catalog)  # sources, posts, follows and the songs live in the catalog database
    # the starter feed: the caller's preferred languages (users table, read-only)
    data.tables["users_table"].grant_read_data(fn.role)
    fn.add_environment("MELODY_USERS_TABLE", data.tables["users_table"].table_name)

    crawler = MelodyFunction(
        api,
        "DiscoverCrawlerFunction",
        area="discover_crawler",
        config=api.config,
        layers=api.layers,
        timeout=CRAWLER_TIMEOUT,
        memory_size=512,
        reserved_concurrency=CRAWLER_RESERVED_CONCURRENCY,
        description="Discover crawler: fetches due sources politely (robots.txt, conditional GET), scheduled",
    )
    allow_catalog_reads(crawler, catalog)
    crawler.function.configure_async_invoke(retry_attempts=0, max_event_age=Duration.minutes(15))

    # The schedule's own role (not the stack-wide one aws-cdk-lib shares between targets): it may
    # invoke the crawler only, and only for schedules of this account.
    role = iam.Role(
        api,
        "DiscoverCrawlScheduleRole",
        assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Stack.of(api).account}}
        ),
        description="melody: EventBridge Scheduler invokes the Discover crawler",
    )
    fn_logical_id = Stack.of(api).resolve(Stack.of(api).get_logical_id(crawler.function.node.default_child))
    acknowledge(
        role,
        {
            f"AwsSolutions-IAM5[Resource::<{fn_logical_id}.Arn>:*]": (
                "lambda:InvokeFunction as aws-cdk-lib grants it: the crawler function and its versions/aliases "
                "(ARN:*); the wildcard stays inside that one function."
            ),
        },
    )
    schedule = scheduler.Schedule(
        api,
        "DiscoverCrawlSchedule",
        description="Melody Discover: crawl the due sources",
        schedule=scheduler.ScheduleExpression.rate(Duration.minutes(CRAWL_SCHEDULE_MINUTES)),
        target=targets.LambdaInvoke(
            crawler.function,
            input=scheduler.ScheduleTargetInput.from_object({}),
            role=role,
            # a missed run is not worth retrying: the next one is CRAWL_SCHEDULE_MINUTES away
            retry_attempts=0,
            max_event_age=Duration.minutes(CRAWL_SCHEDULE_MINUTES),
        ),
    )
    return {"api": fn, "crawler": crawler, "schedule": schedule}
