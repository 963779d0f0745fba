"""``MelodyWeb``: the PWA on CloudFront, same-origin with the API (issue 6).

* a private S3 bucket (no public access, SSL only, access logs) filled from ``web/`` by a
  ``BucketDeployment``; CloudFront reads it through an Origin Access Control, and the bucket
  policy allows only ``cloudfront.amazonaws.com`` with this distribution's ARN as ``SourceArn``;
* the default behaviour serves the bucket (HTTPS redirect, compressed, CachingOptimized) with a
  viewer-request CloudFront Function for SPA routes (``/library`` -> ``/index.html``). It is a
  function and not the distribution's custom error responses because those apply to every
  behaviour, and a 404/403 from the API must reach the client as is;
* ``/api/*`` and ``/.well-known/*`` go to the HTTP API (no caching, every viewer header but
  ``Host``, all methods), so the PWA calls ``/api/v1/...`` on its own origin and needs no CORS;
* ``/sw.js`` and ``/index.html`` are never cached (a new deploy reaches the browser at once);
* one ``ResponseHeadersPolicy`` with a strict CSP (no ``'unsafe-inline'``), HSTS, nosniff,
  ``Referrer-Policy`` and ``X-Frame-Options: DENY`` on every response;
* standard logs to a log bucket; TLSv1.2_2021 and a WAF web ACL when a certificate/ACL is configured.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from melody.api import security_headers as sh
from melody_infra.config import MelodyConfig
from melody_infra.nag import LAMBDA_BASIC_EXECUTION, acknowledge
from melody_infra.paths import REPO_ROOT

WEB_DIR = REPO_ROOT / "web"
WEB_EXCLUDE = ["icons/generate_icons.py", "**/__pycache__", "**/*.pyc", "**/.DS_Store"]
NO_CACHE_FILES = ["sw.js", "index.html"]
# One definition of the security headers, which `melody dev` serves too (melody.api.security_headers).
CONTENT_SECURITY_POLICY = sh.CONTENT_SECURITY_POLICY
# CDK's enums by the header value they write (STRICT_ORIGIN_WHEN_CROSS_ORIGIN -> strict-origin-when-cross-origin).
REFERRER_POLICIES = {policy.value.lower().replace("_", "-"): policy for policy in cloudfront.HeadersReferrerPolicy}
FRAME_OPTIONS = {option.value.lower(): option for option in cloudfront.HeadersFrameOption}

# Viewer request on the default behaviour: extension-less paths are client-side routes of the SPA.
SPA_REWRITE_CODE = """function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var last = uri.substring(uri.lastIndexOf('/') + 1);
  if (uri === '/' || last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
"""


def api_domain(api_endpoint: str) -> str:
    """``https://abc.execute-api.region.amazonaws.com`` -> its host name (works on tokens)."""
    return Fn.select(2, Fn.split("/", api_endpoint))


class WebStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: MelodyConfig,
        api_endpoint: str,
        origin_verify_secret: secretsmanager.ISecret | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.origin_verify_secret = origin_verify_secret
        self.log_bucket = self._log_bucket()
        self.site_bucket = self._site_bucket()
        self.headers_policy = self._headers_policy()
        self.spa_rewrite = cloudfront.Function(
            self,
            "SpaRewrite",
            code=cloudfront.FunctionCode.from_inline(SPA_REWRITE_CODE),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="melody PWA: client-side routes -> /index.html",
        )
        self.distribution = self._distribution(api_endpoint)
        self._deploy_site()
        self.url = f"https://{self.distribution.distribution_domain_name}"
        CfnOutput(self, "WebUrl", value=self.url, description="The PWA (and the API under /api/*)")
        CfnOutput(self, "SiteBucketName", value=self.site_bucket.bucket_name)

    # -- buckets -------------------------------------------------------------------------------

    def _bucket_props(self) -> dict:
        destroy = self.config.removal_policy == RemovalPolicy.DESTROY
        return {
            "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
            "encryption": s3.BucketEncryption.S3_MANAGED,
            "enforce_ssl": True,
            "removal_policy": self.config.removal_policy,
            "auto_delete_objects": destroy,
        }

    def _log_bucket(self) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "LogsBucket",
            # CloudFront standard logging writes with ACLs: the bucket must accept them
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=Duration.days(365))],
            **self._bucket_props(),
        )
        acknowledge(
            bucket,
            {
                "AwsSolutions-S1": (
                    "This is the destination of the site bucket's access logs and CloudFront's standard logs; "
                    "logging it into itself would loop. It is private and SSL-only."
                ),
            },
        )
        return bucket

    def _site_bucket(self) -> s3.Bucket:
        return s3.Bucket(
            self,
            "SiteBucket",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="site-bucket/",
            **self._bucket_props(),
        )

    # -- CloudFront ----------------------------------------------------------------------------

    def _headers_policy(self) -> cloudfront.ResponseHeadersPolicy:
        return cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="melody: CSP, HSTS and friends",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=CONTENT_SECURITY_POLICY, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.seconds(sh.HSTS_MAX_AGE_S),
                    include_subdomains=sh.HSTS_INCLUDE_SUBDOMAINS,
                    preload=sh.HSTS_PRELOAD,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=REFERRER_POLICIES[sh.REFERRER_POLICY], override=True
                ),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=FRAME_OPTIONS[sh.FRAME_OPTIONS.lower()], override=True
                ),
            ),
        )

    def _distribution(self, api_endpoint: str) -> cloudfront.Distribution:
        c = self.config
        site_origin = origins.S3BucketOrigin.with_origin_access_control(self.site_bucket)
        # The origin-verify header proves to the API that a request came through CloudFront, so the
        # auth function may believe CloudFront-Viewer-Address (which the origin request policy
        # passes on) as the caller's IP. The value is a Secrets Manager dynamic reference.
        custom_headers = (
            {"X-Melody-Origin-Verify": self.origin_verify_secret.secret_value.unsafe_unwrap()}
            if self.origin_verify_secret is not None
            else None
        )
        api_origin = origins.HttpOrigin(
            api_domain(api_endpoint),
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            custom_headers=custom_headers,
        )
        api_behavior = cloudfront.BehaviorOptions(
            origin=api_origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=self.headers_policy,
            compress=True,
        )
        no_cache_behavior = cloudfront.BehaviorOptions(
            origin=site_origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            response_headers_policy=self.headers_policy,
            compress=True,
        )
        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", c.web_certificate_arn)
            if c.web_certificate_arn
            else None
        )
        distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"melody {c.stage}: PWA + /api",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=site_origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers_policy,
                compress=True,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=self.spa_rewrite, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            additional_behaviors={
                "/api/*": api_behavior,
                "/.well-known/*": api_behavior,
                **{f"/{name}": no_cache_behavior for name in NO_CACHE_FILES},
            },
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_200,  # includes India
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            certificate=certificate,
            domain_names=list(c.web_domain_names) or None,
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix="cloudfront/",
            web_acl_id=c.web_acl_arn,
        )
        reasons = {
            "AwsSolutions-CFR1": (
                "Melody is offered to listeners everywhere (India first); geo restrictions would be a product "
                "decision, not a security control, and none is asked for."
            ),
        }
        if not c.web_acl_arn:
            reasons["AwsSolutions-CFR2"] = (
                "No WAF web ACL by default (it must live in us-east-1 and costs per rule); the API behind /api/* "
                "has stage throttling and the JWT authorizer, the site is static. Set context web_acl_arn to attach one."
            )
        if not certificate:
            reasons["AwsSolutions-CFR4"] = (
                "Without a custom domain the distribution uses the default *.cloudfront.net certificate, for which "
                "CloudFront does not apply the TLSv1.2_2021 minimum configured here; set web_certificate_arn and "
                "web_domain_names to enforce it."
            )
        acknowledge(distribution, reasons)
        return distribution

    def _deploy_site(self) -> None:
        source = s3deploy.Source.asset(str(WEB_DIR), exclude=WEB_EXCLUDE)
        # everything but the no-cache files; exclude also keeps prune from deleting them
        s3deploy.BucketDeployment(
            self,
            "DeploySite",
            sources=[source],
            destination_bucket=self.site_bucket,
            exclude=NO_CACHE_FILES,
            cache_control=[s3deploy.CacheControl.from_string("public, max-age=3600")],
            distribution=self.distribution,
            distribution_paths=["/*"],
            prune=True,
            memory_limit=512,
        )
        s3deploy.BucketDeployment(
            self,
            "DeployEntryPoints",
            sources=[source],
            destination_bucket=self.site_bucket,
            exclude=["*"],
            include=NO_CACHE_FILES,
            cache_control=[s3deploy.CacheControl.no_cache()],
            prune=False,
            memory_limit=512,
        )
        site_arn = self.resolve(self.get_logical_id(self.site_bucket.node.default_child))
        for child in self.node.children:
            if child.node.id.startswith("Custom::CDKBucketDeployment") or child.node.id.startswith(
                "CustomS3AutoDeleteObjects"
            ):
                acknowledge(child, bucket_deployment_reasons(site_arn))


def bucket_deployment_reasons(site_bucket_logical_id: str) -> dict[str, str]:
    """aws-cdk-lib's BucketDeployment function: its role and runtime are not configurable."""
    copy = (
        "aws-cdk-lib's BucketDeployment copies the site from the CDK staging bucket into the site bucket with "
        "the S3 grant helpers (s3:GetObject*/GetBucket*/List* on the source, plus DeleteObject*/Abort* on the "
        "destination for prune); the wildcards are limited to those two buckets."
    )
    reasons = {
        "AwsSolutions-IAM4[" + LAMBDA_BASIC_EXECUTION + "]": (
            "aws-cdk-lib's BucketDeployment/auto-delete helper function uses the basic execution managed policy "
            "(CloudWatch Logs only); its role is not configurable."
        ),
        "AwsSolutions-IAM5[Resource::*]": (
            "cloudfront:CreateInvalidation/GetInvalidation (after a deploy) support no resource-level "
            "permissions in the BucketDeployment function's policy."
        ),
        f"AwsSolutions-IAM5[Resource::<{site_bucket_logical_id}.Arn>/*]": copy,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]": copy,
        "AwsSolutions-L1": (
            "The BucketDeployment function's runtime is chosen by aws-cdk-lib and moves with aws-cdk-lib upgrades."
        ),
    }
    for action in ("s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*", "s3:GetObject*", "s3:List*"):
        reasons[f"AwsSolutions-IAM5[Action::{action}]"] = copy
    return reasons
