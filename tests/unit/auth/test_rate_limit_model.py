"""The rate-limit table's model keeps PynamoDB's ``Model.count`` usable (mypy found it shadowed)."""

from __future__ import annotations

from pynamodb.models import Model

from melody.auth.dynamodb_models import RateLimitModel


def test_the_counter_attribute_no_longer_shadows_model_count():
    # The counter is ``hits`` in Python and still stored as ``count``, so existing items read the same.
    assert RateLimitModel.count.__func__ is Model.count.__func__
    assert RateLimitModel.hits.attr_name == "count"
    assert RateLimitModel(counter_key="k", hits=3).serialize()["count"] == {"N": "3"}
