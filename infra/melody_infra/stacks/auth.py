"""``MelodyAuth``: the access-token signing key in Secrets Manager, generated once by a custom resource.

The secret starts as a placeholder (``{"keys": [], "bootstrap": ...}``); the keygen function
(``functions/keygen``) writes real key material only while the secret holds no key, so stack
updates never rotate the key behind the API's back. Rotation is an operator action (prepend a new
key to ``keys``; keep the old one until its tokens expire).
"""

from __future__ import annotations

import json

from aws_cdk import CustomResource, Duration, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import custom_resources as cr
from constructs import Construct

from melody_infra.config import MelodyConfig
from melody_infra.constructs import MelodyFunction, MelodyLayers
from melody_infra.nag import LAMBDA_BASIC_EXECUTION, acknowledge

# Bump when the key document's required format changes (RS256 since the JWT authorizer is RSA-only).
KEY_FORMAT = "rs256-v1"


class AuthStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: MelodyConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.signing_key_secret = secretsmanager.Secret(
            self,
            "SigningKeySecret",
            description="Melody Studio access-token signing keys (RS256) and OTP HMAC key",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"keys": []}),
                generate_string_key="bootstrap",
                exclude_punctuation=True,
            ),
            removal_policy=config.removal_policy,
        )
        acknowledge(
            self.signing_key_secret,
            {
                "AwsSolutions-SMG4": (
                    "The document holds a list of signing keys published in the JWKS; rotation means prepending "
                    "a key and keeping the old one until its tokens expire, an operator runbook step that a "
                    "generic Secrets Manager rotation would break (it would invalidate live tokens)."
                ),
            },
        )

        # CloudFront adds this value to every request it sends to the API (X-Melody-Origin-Verify);
        # the auth function then believes CloudFront-Viewer-Address as the caller's IP for rate limits.
        self.origin_verify_secret = secretsmanager.Secret(
            self,
            "OriginVerifySecret",
            description="Melody Studio: the header value CloudFront sends to the API to prove a request came through it",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=48),
            removal_policy=config.removal_policy,
        )
        acknowledge(
            self.origin_verify_secret,
            {
                "AwsSolutions-SMG4": (
                    "CloudFront reads the value when the web stack deploys; an automatic rotation would leave "
                    "CloudFront sending the old value until the next deploy. Rotate by updating the secret and "
                    "redeploying MelodyWeb (the auth function caches it for 5 minutes)."
                ),
            },
        )

        layers = MelodyLayers(self, "Layers")
        self.keygen = MelodyFunction(
            self,
            "KeygenFunction",
            area="keygen",
            config=config,
            layers=layers,
            memory_size=256,
            timeout=Duration.seconds(60),
            description="melody: writes the signing key into its secret once (custom resource)",
        )
        self.signing_key_secret.grant_read(self.keygen.role)
        self.signing_key_secret.grant_write(self.keygen.role)

        provider_logs = logs.LogGroup(
            self, "KeygenProviderLogs", retention=config.log_retention, removal_policy=config.removal_policy
        )
        self.keygen_provider = cr.Provider(
            self, "KeygenProvider", on_event_handler=self.keygen.function, log_group=provider_logs
        )
        keygen_logical_id = self.resolve(self.get_logical_id(self.keygen.function.node.default_child))
        acknowledge(
            self.keygen_provider,
            {
                "AwsSolutions-IAM4[" + LAMBDA_BASIC_EXECUTION + "]": (
                    "The custom-resource provider framework function is built by aws-cdk-lib with the basic "
                    "execution managed policy (CloudWatch Logs only); it is not configurable there."
                ),
                f"AwsSolutions-IAM5[Resource::<{keygen_logical_id}.Arn>:*]": (
                    "The provider framework may invoke any version/alias of the keygen function it fronts; "
                    "the wildcard is limited to that single function's ARN."
                ),
                "AwsSolutions-L1": (
                    "The provider framework function's Node.js runtime is chosen by aws-cdk-lib and moves "
                    "with aws-cdk-lib upgrades."
                ),
            },
        )
        self.signing_key = CustomResource(
            self,
            "SigningKey",
            service_token=self.keygen_provider.service_token,
            resource_type="Custom::MelodySigningKey",
            # KeyFormat: a change makes CloudFormation send an Update, which is how stacks deployed
            # with EC keys get their RS256 key (the handler upgrades; it never replaces keys).
            properties={"SecretId": self.signing_key_secret.secret_arn, "KeyFormat": KEY_FORMAT},
        )
        self.signing_key.node.add_dependency(self.signing_key_secret)
