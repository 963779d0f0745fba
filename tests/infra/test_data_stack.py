"""MelodyData: tables and buckets built from melody.core.resources."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from melody.core.resources import BUCKETS, TABLES

from .helpers import resources

pytestmark = pytest.mark.infra


def _table(synth, spec):
    for logical_id, res in resources(synth.data, "AWS::DynamoDB::Table").items():
        if logical_id.startswith(spec.construct_id):
            return res
    raise AssertionError(spec.construct_id)


def test_one_table_per_spec(synth):
    assert len(resources(synth.data, "AWS::DynamoDB::Table")) == len(TABLES)


@pytest.mark.parametrize("spec", TABLES, ids=lambda s: s.construct_id)
def test_table_matches_spec(synth, spec):
    res = _table(synth, spec)
    props = res["Properties"]
    keys = [{"AttributeName": spec.partition_key.name, "KeyType": "HASH"}]
    if spec.sort_key:
        keys.append({"AttributeName": spec.sort_key.name, "KeyType": "RANGE"})
    assert props["KeySchema"] == keys
    assert {"AttributeName": spec.partition_key.name, "AttributeType": spec.partition_key.type} in props[
        "AttributeDefinitions"
    ]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    gsis = {g["IndexName"]: g for g in props.get("GlobalSecondaryIndexes", [])}
    assert set(gsis) == {i.name for i in spec.indexes}
    for index in spec.indexes:
        assert gsis[index.name]["KeySchema"][0] == {"AttributeName": index.partition_key.name, "KeyType": "HASH"}
        assert gsis[index.name]["Projection"] == {"ProjectionType": "ALL"}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert "KMSMasterKeyId" not in props["SSESpecification"]  # AWS-managed key
    if spec.ttl_attribute:
        assert props["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in props
    # prod: the data outlives the stack
    assert res["DeletionPolicy"] == "Retain" and res["UpdateReplacePolicy"] == "Retain"
    assert props["DeletionProtectionEnabled"] is True


def test_buckets_private_ssl_encrypted_logged(synth):
    buckets = resources(synth.data, "AWS::S3::Bucket")
    for spec in BUCKETS:
        (res,) = [r for lid, r in buckets.items() if lid.startswith(spec.construct_id)]
        props = res["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ] == {"SSEAlgorithm": "AES256"}
        assert "DestinationBucketName" in props["LoggingConfiguration"]
        assert res["DeletionPolicy"] == "Retain"
    # every bucket (the access-log bucket too) denies non-TLS requests
    ssl_denies = synth.data.find_resources(
        "AWS::S3::BucketPolicy",
        {
            "Properties": {
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Deny",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                }
                            )
                        ]
                    )
                }
            }
        },
    )
    assert len(ssl_denies) == len(buckets) == len(BUCKETS) + 1


def test_uploads_bucket_lifecycle_and_eventbridge(synth):
    synth.data.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [Match.object_like({"Prefix": "uploads/", "ExpirationInDays": 5, "Status": "Enabled"})]
                )
            }
        },
    )
    # EventBridge delivery is switched on through aws-cdk-lib's notifications resource
    synth.data.has_resource_properties(
        "Custom::S3BucketNotifications",
        {
            "BucketName": {"Ref": Match.string_like_regexp("^UploadsBucket")},
            "NotificationConfiguration": {"EventBridgeConfiguration": {}},
        },
    )


def test_media_bucket_answers_cors_gets_from_the_web_origin(synth):
    """The player fetch()es waveform.json from a presigned URL on the bucket's own domain."""
    (media,) = [spec for spec in BUCKETS if spec.settings_field == "media_bucket"]
    buckets = {lid: r for lid, r in resources(synth.data, "AWS::S3::Bucket").items() if lid.startswith(media.construct_id)}
    (bucket,) = buckets.values()
    (rule,) = bucket["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedMethods"] == ["GET", "HEAD"]
    assert rule["AllowedOrigins"] == ["https://melody.example.com"]
    assert rule["Id"] == "browser-presigned-get"
