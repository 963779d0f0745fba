"""MelodyWeb: private bucket behind CloudFront (OAC), same-origin /api, security headers."""

from __future__ import annotations

import json

import pytest

from .helpers import as_list, resources

pytestmark = pytest.mark.infra

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _dist(synth) -> tuple[str, dict]:
    ((logical_id, dist),) = resources(synth.web, "AWS::CloudFront::Distribution").items()
    return logical_id, dist["Properties"]["DistributionConfig"]


def _site_bucket_id(synth) -> str:
    (bucket_id,) = [b for b in resources(synth.web, "AWS::S3::Bucket") if b.startswith("SiteBucket")]
    return bucket_id


def _behaviors(config) -> dict[str, dict]:
    return {b["PathPattern"]: b for b in config["CacheBehaviors"]}


def _origins(config) -> dict[str, dict]:
    return {o["Id"]: o for o in config["Origins"]}


def test_site_bucket_is_private_ssl_only_and_logged(synth):
    props = resources(synth.web, "AWS::S3::Bucket")[_site_bucket_id(synth)]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }  # fmt: skip
    assert "WebsiteConfiguration" not in props
    assert props["LoggingConfiguration"]["DestinationBucketName"]["Ref"].startswith("LogsBucket")


def test_default_behaviour_reads_the_bucket_through_oac(synth):
    _, config = _dist(synth)
    default = config["DefaultCacheBehavior"]
    origin = _origins(config)[default["TargetOriginId"]]
    assert origin["DomainName"] == {"Fn::GetAtt": [_site_bucket_id(synth), "RegionalDomainName"]}
    assert "OriginAccessControlId" in origin and origin["S3OriginConfig"]["OriginAccessIdentity"] == ""
    (oac,) = resources(synth.web, "AWS::CloudFront::OriginAccessControl").values()
    oac_config = oac["Properties"]["OriginAccessControlConfig"]
    assert oac_config["OriginAccessControlOriginType"] == "s3" and oac_config["SigningBehavior"] == "always"
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert default["Compress"] is True and default["CachePolicyId"] == CACHING_OPTIMIZED
    (assoc,) = default["FunctionAssociations"]  # SPA routes -> /index.html, for this behaviour only
    assert assoc["EventType"] == "viewer-request"
    assert "CustomErrorResponses" not in config  # would also rewrite the API's 403/404s
    assert config["DefaultRootObject"] == "index.html"


def test_bucket_policy_allows_only_this_distribution(synth):
    dist_id, _ = _dist(synth)
    bucket_id = _site_bucket_id(synth)
    (policy,) = [
        p for p in resources(synth.web, "AWS::S3::BucketPolicy").values() if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert len(allows) == 1
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    source_arn = allow["Condition"]["StringEquals"]["AWS:SourceArn"]
    assert {"Ref": dist_id} in source_arn["Fn::Join"][1]
    denies = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert denies[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize("pattern", ["/api/*", "/.well-known/*"])
def test_api_behaviours_go_to_the_http_api_uncached(synth, pattern):
    _, config = _dist(synth)
    behavior = _behaviors(config)[pattern]
    origin = _origins(config)[behavior["TargetOriginId"]]
    domain = json.dumps(origin["DomainName"])
    assert "Fn::Split" in domain and "ExportsOutputFnGetAttHttpApi" in domain  # the MelodyApi endpoint's host
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert behavior["CachePolicyId"] == CACHING_DISABLED
    assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert set(behavior["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    assert behavior["ViewerProtocolPolicy"] == "https-only"


def test_service_worker_is_never_cached(synth):
    _, config = _dist(synth)
    sw = _behaviors(config)["/sw.js"]
    assert sw["CachePolicyId"] == CACHING_DISABLED
    assert sw["TargetOriginId"] == config["DefaultCacheBehavior"]["TargetOriginId"]
    deployments = resources(synth.web, "Custom::CDKBucketDeployment")
    no_cache = [d for d in deployments.values() if d["Properties"].get("SystemMetadata", {}).get("cache-control") == "no-cache"]
    assert len(no_cache) == 1 and "sw.js" in no_cache[0]["Properties"]["Include"]


def test_security_headers_policy(synth):
    from melody.api.security_headers import CONTENT_SECURITY_POLICY

    (policy_id, policy), = resources(synth.web, "AWS::CloudFront::ResponseHeadersPolicy").items()
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert csp == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["connect-src"] == "'self' https:"
    assert headers["StrictTransportSecurity"] == {
        "AccessControlMaxAgeSec": 63072000, "IncludeSubdomains": True, "Preload": True, "Override": True,
    }  # fmt: skip
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    _, config = _dist(synth)
    for behavior in [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]:
        assert behavior["ResponseHeadersPolicyId"] == {"Ref": policy_id}


def _as_headers(security: dict) -> dict[str, str]:
    """The response headers a CloudFront security-headers config writes, as a viewer sees them."""
    hsts = security["StrictTransportSecurity"]
    hsts_value = f"max-age={hsts['AccessControlMaxAgeSec']}"
    hsts_value += "; includeSubDomains" if hsts.get("IncludeSubdomains") else ""
    hsts_value += "; preload" if hsts.get("Preload") else ""
    assert all(entry["Override"] is True for entry in security.values())
    return {
        "Content-Security-Policy": security["ContentSecurityPolicy"]["ContentSecurityPolicy"],
        "Strict-Transport-Security": hsts_value,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": security["ReferrerPolicy"]["ReferrerPolicy"],
        "X-Frame-Options": security["FrameOptions"]["FrameOption"],
    }


def test_the_policy_is_the_one_definition_melody_dev_serves(synth):
    """CloudFront and the local stack read melody.api.security_headers: the policy is exactly that set."""
    from melody.api.security_headers import SECURITY_HEADERS

    (policy,) = resources(synth.web, "AWS::CloudFront::ResponseHeadersPolicy").values()
    security = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert set(security) == {
        "ContentSecurityPolicy", "StrictTransportSecurity", "ContentTypeOptions", "ReferrerPolicy", "FrameOptions",
    }  # fmt: skip
    assert _as_headers(security) == SECURITY_HEADERS


def test_distribution_logs_and_https(synth):
    _, config = _dist(synth)
    assert config["Logging"]["Bucket"]["Fn::GetAtt"][0].startswith("LogsBucket")
    assert config["HttpVersion"] in ("http2", "http2and3")


def test_spa_rewrite_function_keeps_files_and_rewrites_routes():
    """The CloudFront Function's logic, mirrored in Python on the same inputs."""
    from melody_infra.stacks.web import SPA_REWRITE_CODE

    assert "lastIndexOf('/')" in SPA_REWRITE_CODE and "'/index.html'" in SPA_REWRITE_CODE

    def rewrite(uri: str) -> str:
        last = uri[uri.rfind("/") + 1 :]
        return "/index.html" if uri == "/" or "." not in last else uri

    assert rewrite("/library") == "/index.html"
    assert rewrite("/js/app.js") == "/js/app.js"
    assert rewrite("/") == "/index.html"


def test_web_deploys_after_the_api(synth):
    assert synth.melody.api in synth.melody.web.dependencies
    assert synth.melody.pipeline in synth.melody.api.dependencies
    assert synth.melody.catalog in synth.melody.api.dependencies
    assert not any(d in as_list(synth.melody.data.dependencies) for d in (synth.melody.web, synth.melody.api))


def test_cloudfront_proves_itself_to_the_api_and_only_the_auth_function_holds_the_proof(synth):
    """Per-IP limits behind CloudFront: the API origin carries the origin-verify secret (a Secrets
    Manager dynamic reference, never a literal), which the auth function alone may read."""
    from .helpers import function_by_service, role_policy_statements

    _, config = _dist(synth)
    origin = _origins(config)[_behaviors(config)["/api/*"]["TargetOriginId"]]
    (header,) = origin["OriginCustomHeaders"]
    assert header["HeaderName"] == "X-Melody-Origin-Verify"
    value = json.dumps(header["HeaderValue"])
    assert "{{resolve:secretsmanager:" in value and "ImportValue" in value  # MelodyAuth's secret, resolved at deploy
    (secret_id,) = [k for k in resources(synth.auth, "AWS::SecretsManager::Secret") if k.startswith("OriginVerifySecret")]

    _, auth = function_by_service(synth.api, "melody-auth")
    env = auth["Properties"]["Environment"]["Variables"]
    assert secret_id in json.dumps(env["MELODY_ORIGIN_VERIFY_SECRET_ID"])
    for service in ("melody-users", "melody-catalog", "melody-library", "melody-conversions", "melody-system"):
        _, fn = function_by_service(synth.api, service)
        assert "MELODY_ORIGIN_VERIFY_SECRET_ID" not in fn["Properties"]["Environment"]["Variables"]
        assert secret_id not in json.dumps(role_policy_statements(synth.api, fn))
