"""The DynamoDB search cache (providers' responses) against moto's server: put/get, expiry, TTL."""

from __future__ import annotations

import time
import uuid

import boto3
import pytest

pytestmark = pytest.mark.integration

HITS = [{"title": "Kesariya", "artists": ["Arijit Singh"], "duration_s": 268, "language": None,
         "external_ids": {"spotify": "6VBhH7CyP56BXjp8VsDFPZ"}}]


@pytest.fixture()
def cache(dev_settings):
    from melody.catalog.providers.cache import DynamoSearchCache, bind_search_cache_model

    bind_search_cache_model(dev_settings)
    return DynamoSearchCache()


@pytest.fixture()
def dynamodb(dev_settings):
    return boto3.client("dynamodb", region_name=dev_settings.aws_region, endpoint_url=dev_settings.dynamodb_endpoint_url)


def key() -> str:
    return "search#test#" + uuid.uuid4().hex


def test_put_then_get_round_trips_the_hits(cache):
    now = time.time()
    k = key()
    assert cache.get(k, now=now) is None  # never written
    cache.put(k, HITS, expires_at=now + 600)
    assert cache.get(k, now=now) == HITS
    assert cache.get(k, now=now + 599) == HITS
    cache.put(k, [], expires_at=now + 600)  # an empty answer is cached too (and overwrites)
    assert cache.get(k, now=now) == []


def test_an_expired_item_is_not_returned_before_dynamodb_deletes_it(cache, dynamodb, dev_settings):
    now = time.time()
    k = key()
    cache.put(k, HITS, expires_at=now + 60)
    assert cache.get(k, now=now + 60) is None  # at expiry
    assert cache.get(k, now=now + 3600) is None  # long past it
    # The item is still in the table (DynamoDB deletes expired items lazily, up to days later) ...
    item = dynamodb.get_item(TableName=dev_settings.search_cache_table, Key={"cache_key": {"S": k}})["Item"]
    # ... and carries its expiry as epoch seconds in the table's TTL attribute.
    from melody.core.resources import TABLES

    ttl_attr = next(t.ttl_attribute for t in TABLES if t.settings_field == "search_cache_table")
    assert int(item[ttl_attr]["N"]) == int(now + 60)
    # An item whose TTL DynamoDB has passed but not yet deleted is also not served.
    dynamodb.put_item(TableName=dev_settings.search_cache_table, Item={
        **item, "expires_at": {"N": str(int(now) - 1)}, ttl_attr: {"N": str(int(now) - 1)}})
    assert cache.get(k, now=now) is None


def test_the_cache_table_expires_items_on_the_models_ttl_attribute(dynamodb, dev_settings):
    from melody.catalog.providers.cache import SearchCacheModel
    from melody.core.resources import TABLES

    spec = next(t for t in TABLES if t.settings_field == "search_cache_table")
    assert spec.partition_key.name == "cache_key" and spec.ttl_attribute
    ttl = dynamodb.describe_time_to_live(TableName=dev_settings.search_cache_table)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED" and ttl["AttributeName"] == spec.ttl_attribute
    # The model writes that attribute, as a TTL attribute (epoch seconds).
    from pynamodb.attributes import TTLAttribute

    attrs = SearchCacheModel.get_attributes()
    ttl_fields = [a for a in attrs.values() if isinstance(a, TTLAttribute)]
    assert [a.attr_name for a in ttl_fields] == [spec.ttl_attribute]
    assert SearchCacheModel._hash_keyname == spec.partition_key.name
