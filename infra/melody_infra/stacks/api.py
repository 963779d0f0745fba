"""``MelodyApi``: the HTTP API, its JWT authorizer and the Lambda-backed route groups.

The API, the authorizer and the functions share one stack on purpose: the authorizer's issuer and
the functions' ``MELODY_JWT_ISSUER`` are the API's own endpoint, while the API's integrations point
at the functions; split across stacks that would be a dependency cycle.

Later issues add routes with :meth:`ApiStack.add_lambda_route_group`::

    fn = api.add_lambda_route_group(
        "library",
        routes=["GET /api/v1/library", "PUT /api/v1/library/{track_id}"],
        protected=True,
    )
    fn.use_tables({"library_table": data.tables["library_table"]})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import jsii
from aws_cdk import CfnOutput, Duration, Fn, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

import melody_infra.paths  # noqa: F401  (puts layers/shared/python on sys.path)
from melody.auth.security_events import (
    OTP_LOCKOUT,
    RATE_LIMITED,
    REFRESH_TOKEN_REUSE,
    SECURITY_EVENT_METRIC,
)
from melody_infra.config import MelodyConfig
from melody_infra.constructs import MelodyFunction, MelodyLayers
from melody_infra.constructs.function import METRICS_NAMESPACE
from melody_infra.nag import acknowledge
from melody_infra.stacks.data import DataStack

API_PREFIX = "/api/v1"
# The auth function's powertools service name (MelodyFunction: ``melody-<area>``): the SecurityEvent
# metric's ``service`` dimension the security alarms select.
AUTH_SERVICE = "melody-auth"

ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
    '"requestTime":"$context.requestTime","routeKey":"$context.routeKey","status":"$context.status",'
    '"protocol":"$context.protocol","responseLength":"$context.responseLength",'
    '"latencyMs":"$context.responseLatency","integrationLatencyMs":"$context.integrationLatency",'
    '"integrationError":"$context.integrationErrorMessage","authorizerError":"$context.authorizer.error"}'
)

PUBLIC_ROUTE_REASON = (
    "Public by design: OTP login, token refresh/logout (the refresh token in the body is the credential), "
    "the issuer's discovery/JWKS documents the JWT authorizer itself fetches, and the health probe."
)


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """``IAccessLogSettings`` is a jsii interface (not a struct), so it needs a small class."""

    def __init__(self, destination: apigwv2.IAccessLogDestination, fmt: apigw.AccessLogFormat) -> None:
        self._destination = destination
        self._format = fmt

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


@dataclass
class RouteGroup:
    """What :meth:`ApiStack.add_route_group` built: the function's routes and whether they are protected."""

    name: str
    function: lambda_.IFunction
    protected: bool
    routes: list[apigwv2.HttpRoute] = field(default_factory=list)
    route_keys: list[str] = field(default_factory=list)


def parse_route(route: str) -> tuple[apigwv2.HttpMethod, str]:
    """``"GET /api/v1/users/me"`` -> (``HttpMethod.GET``, ``"/api/v1/users/me"``)."""
    method, _, path = route.strip().partition(" ")
    path = path.strip()
    if not path.startswith("/"):
        raise ValueError(f"route {route!r} must look like 'METHOD /path'")
    return apigwv2.HttpMethod[method.upper()], path


class ApiStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: MelodyConfig,
        data: DataStack,
        signing_key_secret: secretsmanager.ISecret,
        origin_verify_secret: secretsmanager.ISecret | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.data = data
        self.signing_key_secret = signing_key_secret
        self.origin_verify_secret = origin_verify_secret
        self.layers = MelodyLayers(self, "Layers")
        self.route_groups: dict[str, RouteGroup] = {}
        # One integration per function: a function serving two route groups (one behind the JWT
        # authorizer, one not) is still invoked through one integration on its alias.
        self._integrations: dict[str, integrations.HttpLambdaIntegration] = {}
        self.functions: dict[str, MelodyFunction] = {}

        cors = None
        if config.cors_allowed_origins:
            cors = apigwv2.CorsPreflightOptions(
                allow_origins=list(config.cors_allowed_origins),
                allow_methods=[apigwv2.CorsHttpMethod.ANY],
                # x-api-key: the developer API's key header (melody.developer.deps)
                allow_headers=["authorization", "content-type", "idempotency-key", "x-api-key"],
                # the developer API's limits, readable by partners' browser code
                expose_headers=["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"],
                max_age=Duration.hours(1),
            )
        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            api_name=config.name("api"),
            description="Melody Studio HTTP API",
            create_default_stage=False,
            cors_preflight=cors,
        )
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.log_retention, removal_policy=config.removal_policy
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.throttle_rate_limit, burst_limit=config.throttle_burst_limit
            ),
            access_log_settings=_AccessLogSettings(
                apigwv2.LogGroupLogDestination(self.access_logs), apigw.AccessLogFormat.custom(ACCESS_LOG_FORMAT)
            ),
        )

        # The issuer is the API itself: <issuer>/.well-known/openid-configuration is served by auth.
        self.jwt_issuer: str = config.jwt_issuer or self.http_api.api_endpoint
        self.jwt_audience = config.jwt_audience
        self.authorizer = authorizers.HttpJwtAuthorizer(
            "JwtAuthorizer",
            self.jwt_issuer,
            jwt_audience=[self.jwt_audience],
            authorizer_name="melody-jwt",
            identity_source=["$request.header.Authorization"],
        )

        self._add_system_routes()
        self._add_auth_routes()
        self._add_users_routes()
        self.security_alarm_topic = self._security_alarms()

        CfnOutput(self, "ApiUrl", value=self.http_api.api_endpoint, description="Base URL of the HTTP API")
        CfnOutput(self, "JwtIssuer", value=self.jwt_issuer, description="iss of the access tokens")

    # -- the extension points ----------------------------------------------------------------

    def add_function(
        self,
        area: str,
        *,
        environment: Mapping[str, str] | None = None,
        verifies_tokens: bool = False,
        signs_tokens: bool = False,
        memory_size: int | None = None,
        timeout: Duration | None = None,
        reserved_concurrency: int | None = None,
        description: str | None = None,
    ) -> MelodyFunction:
        """A function for ``functions/<area>``.

        ``verifies_tokens`` wires the issuer, audience and JWKS URL; ``signs_tokens`` (the auth function
        only) wires the issuer, audience and read access to the private key material instead.
        """
        fn = MelodyFunction(
            self,
            f"{area.title().replace('-', '').replace('_', '')}Function",
            area=area,
            config=self.config,
            layers=self.layers,
            environment=environment,
            memory_size=memory_size,
            timeout=timeout,
            reserved_concurrency=reserved_concurrency,
            description=description,
            snap_start=True,  # every API function: see MelodyFunction
        )
        acknowledge(
            fn.function,
            {
                "AwsSolutions-SQS3": "Synchronous API function: errors return to the caller, no async DLQ.",
            },
        )
        if verifies_tokens or signs_tokens:
            fn.add_environment("MELODY_JWT_ISSUER", self.jwt_issuer)
            fn.add_environment("MELODY_JWT_AUDIENCE", self.jwt_audience)
        if signs_tokens:
            # Only the signer reads the private key material (signing key and OTP/user-id HMAC key).
            fn.read_secret(self.signing_key_secret, "MELODY_SIGNING_KEY_SECRET_ID")
        elif verifies_tokens:
            # Verifiers get the public keys from the issuer's JWKS, as the JWT authorizer does.
            fn.add_environment("MELODY_JWKS_URL", Fn.join("", [self.jwt_issuer, "/.well-known/jwks.json"]))
        self.functions[area] = fn
        return fn

    def add_route_group(
        self, name: str, *, function: lambda_.IFunction, routes: Sequence[str], protected: bool
    ) -> RouteGroup:
        """Route ``"METHOD /path"`` strings to ``function``; ``protected`` puts the JWT authorizer on them."""
        if name in self.route_groups:
            raise ValueError(f"route group {name!r} already exists")
        integration = self._integrations.get(function.node.addr)
        if integration is None:
            integration = integrations.HttpLambdaIntegration(f"{name.title()}Integration", function)
            self._integrations[function.node.addr] = integration
        group = RouteGroup(name=name, function=function, protected=protected)
        for route in routes:
            method, path = parse_route(route)
            created = self.http_api.add_routes(
                path=path,
                methods=[method],
                integration=integration,
                authorizer=self.authorizer if protected else apigwv2.HttpNoneAuthorizer(),
            )
            for r in created:
                if not protected:
                    acknowledge(r, {"AwsSolutions-APIG4": PUBLIC_ROUTE_REASON})
            group.routes.extend(created)
            group.route_keys.append(f"{method.value} {path}")
        self.route_groups[name] = group
        return group

    def add_lambda_route_group(
        self,
        area: str,
        *,
        routes: Sequence[str],
        protected: bool,
        environment: Mapping[str, str] | None = None,
        verifies_tokens: bool | None = None,
        **function_options,
    ) -> MelodyFunction:
        """``functions/<area>`` as a function plus its routes; returns it for grants (``use_tables``...)."""
        fn = self.add_function(
            area,
            environment=environment,
            verifies_tokens=protected if verifies_tokens is None else verifies_tokens,
            **function_options,
        )
        self.add_route_group(area, function=fn.invocable, routes=routes, protected=protected)
        return fn

    # -- this routes -------------------------------------------------------------------

    def _add_system_routes(self) -> None:
        fn = self.add_lambda_route_group(
            "system", routes=[f"GET {API_PREFIX}/system/health"], protected=False, memory_size=256
        )
        fn.probe_resources(self.data.tables, self.data.buckets)

    def _add_auth_routes(self) -> None:
        c = self.config
        env = {"MELODY_SMS_SENDER": c.sms_sender}
        for key, value in (
            ("MELODY_SNS_SENDER_ID", c.sns_sender_id),
            ("MELODY_SNS_ENTITY_ID", c.sns_entity_id),
            ("MELODY_SNS_TEMPLATE_ID", c.sns_template_id),
        ):
            if value:
                env[key] = str(value)
        fn = self.add_lambda_route_group(
            "auth",
            routes=[
                f"POST {API_PREFIX}/auth/request-otp",
                f"POST {API_PREFIX}/auth/verify-otp",
                f"POST {API_PREFIX}/auth/refresh-token",
                f"POST {API_PREFIX}/auth/logout",
                "GET /.well-known/openid-configuration",
                "GET /.well-known/jwks.json",
            ],
            protected=False,
            verifies_tokens=False,
            signs_tokens=True,
            environment=env,
        )
        fn.use_tables({f: self.data.tables[f] for f in ("users_table", "otp_table", "tokens_table", "rate_limit_table")})
        if self.origin_verify_secret is not None:
            fn.read_secret(self.origin_verify_secret, "MELODY_ORIGIN_VERIFY_SECRET_ID")
        if c.sms_sender == "sns":
            fn.add_to_policy(
                [
                    iam.PolicyStatement(
                        sid="SendOtpSms",
                        actions=["sns:Publish"],
                        resources=["*"],
                        conditions={"StringEquals": {"aws:RequestedRegion": self.region}},
                    ),
                ]
            )
            acknowledge(
                fn,
                {
                    "AwsSolutions-IAM5[Resource::*]": (
                        "sns:Publish to a phone number (OTP SMS) has no resource ARN, so IAM needs '*'; it is "
                        "limited by condition to this stack's region. X-Ray "
                        "PutTraceSegments/PutTelemetryRecords likewise support no resource-level permissions."
                    ),
                },
            )

    # -- security alarms -----------------------------------------------------------------------

    def _security_alarms(self) -> sns.Topic:
        """Alarms on the auth function's ``SecurityEvent`` metric (``melody.auth.security_events``), one
        per ``kind``, to a KMS-encrypted SNS topic (the pipeline's alarm pattern)."""
        c = self.config
        key = kms.Key(
            self,
            "SecurityAlarmTopicKey",
            description="melody security alarm topic",
            enable_key_rotation=True,
            removal_policy=c.removal_policy,
        )
        # CloudWatch alarms publish to an encrypted topic only with a customer managed key it may use.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )
        topic = sns.Topic(
            self, "SecurityAlarmTopic", display_name="Melody security alarms", master_key=key, enforce_ssl=True
        )
        if c.alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(c.alarm_email))
        action = cw_actions.SnsAction(topic)
        alarms = {
            "RefreshTokenReuseAlarm": (
                REFRESH_TOKEN_REUSE,
                c.alarm_refresh_token_reuse_threshold,
                "a spent refresh token was presented again (stolen or replayed); its sessions were signed out",
            ),
            "OtpLockoutAlarm": (
                OTP_LOCKOUT,
                c.alarm_otp_lockout_threshold,
                "OTP lockouts (attempts exhausted or too many wrong codes for a number): code guessing?",
            ),
            "RateLimitedAlarm": (
                RATE_LIMITED,
                c.alarm_rate_limited_threshold,
                "OTP requests refused by the rate limits (per number, per IP, resend too soon): SMS pumping?",
            ),
        }
        for construct_id, (kind, threshold, description) in alarms.items():
            metric = cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=SECURITY_EVENT_METRIC,
                dimensions_map={"service": AUTH_SERVICE, "kind": kind},
                statistic=cloudwatch.Stats.SUM,
                period=Duration.minutes(5),
            )
            alarm = cloudwatch.Alarm(
                self,
                construct_id,
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"Melody ({c.stage}): {description} (>= {threshold} in 5 minutes)",
            )
            alarm.add_alarm_action(action)
        CfnOutput(self, "SecurityAlarmTopicArn", value=topic.topic_arn, description="SNS topic of the security alarms")
        return topic

    def _add_users_routes(self) -> None:
        fn = self.add_lambda_route_group(
            "users",
            routes=[f"GET {API_PREFIX}/users/me", f"PATCH {API_PREFIX}/users/me"],
            protected=True,
        )
        fn.use_tables({"users_table": self.data.tables["users_table"]})
