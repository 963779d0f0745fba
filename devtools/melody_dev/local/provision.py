"""Creates the product's tables and buckets from :mod:`melody.core.resources` (moto locally)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

from melody.core.resources import BUCKETS, TABLES, create_table_request

if TYPE_CHECKING:
    from melody.core.settings import CommonSettings


def provision(settings: CommonSettings) -> None:
    dynamodb = boto3.client("dynamodb", region_name=settings.aws_region, endpoint_url=settings.dynamodb_endpoint_url)
    for spec in TABLES:
        name = getattr(settings, spec.settings_field)
        try:
            dynamodb.create_table(**create_table_request(spec, name))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
        if spec.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute}
            )
    s3 = boto3.client("s3", region_name=settings.aws_region, endpoint_url=settings.s3_endpoint_url)
    for bucket in BUCKETS:
        name = getattr(settings, bucket.settings_field)
        try:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": settings.aws_region})
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
