"""The PynamoDB models state the same keys, indexes and TTL as the TableSpecs the tables are built from.

CDK and ``melody dev`` create the tables from ``melody.core.resources.TABLES``; the code reads and
writes them through PynamoDB models that restate the schema. A model whose key, index or TTL drifts
from its spec works against moto's loose tables in some paths and fails in AWS (or the reverse).
"""

from __future__ import annotations

import dataclasses
import importlib
import sys

import pytest
from pynamodb.attributes import BinaryAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, LocalSecondaryIndex
from pynamodb.models import Model

from melody.auth.dynamodb_models import OtpChallengeModel, RateLimitModel, RefreshTokenModel
from melody.catalog.providers.cache import SearchCacheModel
from melody.conversions.dynamodb import JobModel, ResultModel
from melody.core.resources import TABLES, IndexSpec, KeySpec, TableSpec
from melody.developer.dynamodb import ApiKeyModel, ApiUsageModel
from melody.library.dynamodb import LibraryItemModel
from melody.lyrics.dynamodb import LyricsModel
from melody.renditions.dynamodb import RenditionModel
from melody.scores.dynamodb import ScoreModel
from melody.users.dynamodb import UserModel
from tests.support.table_drift import import_package, model_shape, model_subclasses, table_differences

# The one explicit statement of which table each model lives in (a TableSpec's settings_field).
MODEL_TABLES: dict[type[Model], str] = {
    UserModel: "users_table",
    OtpChallengeModel: "otp_table",
    RefreshTokenModel: "tokens_table",
    RateLimitModel: "rate_limit_table",
    LibraryItemModel: "library_table",
    SearchCacheModel: "search_cache_table",
    JobModel: "jobs_table",
    ResultModel: "results_table",
    RenditionModel: "renditions_table",
    LyricsModel: "lyrics_table",
    ApiKeyModel: "api_keys_table",
    ApiUsageModel: "api_usage_table",
    ScoreModel: "scores_table",
}
SPECS: dict[str, TableSpec] = {spec.settings_field: spec for spec in TABLES}


def spec_named(settings_field: str) -> TableSpec:
    return SPECS[settings_field]


# -- the real models against the real specs --------------------------------------------------


@pytest.mark.parametrize("model", list(MODEL_TABLES), ids=lambda model: model.__name__)
def test_model_matches_its_table_spec(model: type[Model]) -> None:
    """Keys (storage names and S/N/B types), GSIs and the TTL attribute agree with the spec CDK builds."""
    assert table_differences(model, spec_named(MODEL_TABLES[model])) == []


def test_every_melody_model_is_mapped_to_a_table() -> None:
    """A new model (anywhere under melody) must join MODEL_TABLES, so it is checked against its spec too."""
    import_package("melody")
    found = model_subclasses("melody")
    assert sorted(c.__qualname__ for c in found - MODEL_TABLES.keys()) == [], "models missing from MODEL_TABLES"
    assert sorted(c.__qualname__ for c in MODEL_TABLES.keys() - found) == []


def test_every_table_spec_has_exactly_the_mapped_settings_fields() -> None:
    """Each TableSpec names its own settings field and has a model; no model points at a table that isn't built."""
    assert len(SPECS) == len(TABLES), "two TableSpecs share a settings_field"
    assert set(MODEL_TABLES.values()) == set(SPECS)


def test_bind_functions_bind_each_model_to_its_mapped_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mapping above is what the code does: every ``bind_*`` function binds exactly those (model, field) pairs.

    Settings are an echo (``settings.users_table == "users_table"``) and ``bind_model`` a recorder, so
    nothing global is changed.
    """
    import_package("melody")
    core = importlib.import_module("melody.core.dynamodb")
    original = core.bind_model
    bound: dict[type[Model], str] = {}

    def record(model: type[Model], table_name: str, settings: object) -> None:
        assert model not in bound, f"{model.__name__} bound twice"
        bound[model] = table_name

    binders = []
    for name, module in sorted(sys.modules.items()):
        if name != "melody" and not name.startswith("melody."):
            continue
        if getattr(module, "bind_model", None) is original:
            monkeypatch.setattr(module, "bind_model", record)
        binders += [
            fn
            for attr, fn in vars(module).items()
            if attr.startswith("bind_") and attr != "bind_model" and callable(fn) and getattr(fn, "__module__", None) == name
        ]

    class EchoSettings:
        def __getattr__(self, field: str) -> str:
            return field

    for binder in binders:
        binder(EchoSettings())
    assert bound == MODEL_TABLES


# -- the helper reports a change on either side ----------------------------------------------


def test_helper_reports_a_spec_with_another_sort_key() -> None:
    """Changing only the spec (a sort key the model doesn't have) is a difference."""
    spec = dataclasses.replace(spec_named("users_table"), sort_key=KeySpec("created_at", "N"))
    assert table_differences(UserModel, spec) == ["UserModel vs UsersTable: sort key: model none, spec created_at (N)"]


def test_helper_reports_a_spec_with_another_key_type() -> None:
    """Same key name, another DynamoDB type (N instead of S) is a difference."""
    spec = dataclasses.replace(spec_named("library_table"), sort_key=KeySpec("track_id", "N"))
    assert table_differences(LibraryItemModel, spec) == [
        "LibraryItemModel vs LibraryTable: sort key: model track_id (S), spec track_id (N)"
    ]


def test_helper_reports_a_model_with_another_hash_key() -> None:
    """Changing only the model (hash key name and type) is a difference."""

    class Throwaway(Model):
        class Meta:
            table_name = "throwaway"

        user_key = BinaryAttribute(hash_key=True, legacy_encoding=False)

    assert table_differences(Throwaway, spec_named("users_table")) == [
        "Throwaway vs UsersTable: partition key: model user_key (B), spec user_id (S)"
    ]


def test_helper_compares_storage_names_not_python_names() -> None:
    """``attr_name`` is what DynamoDB sees: a renamed python attribute with the right storage name agrees."""

    class Renamed(Model):
        class Meta:
            table_name = "throwaway"

        id = UnicodeAttribute(hash_key=True, attr_name="user_id")

    class Misstored(Model):
        class Meta:
            table_name = "throwaway"

        user_id = UnicodeAttribute(hash_key=True, attr_name="uid")

    assert table_differences(Renamed, spec_named("users_table")) == []
    assert table_differences(Misstored, spec_named("users_table")) == [
        "Misstored vs UsersTable: partition key: model uid (S), spec user_id (S)"
    ]


def test_helper_reports_index_drift_on_either_side() -> None:
    """A GSI dropped from the spec, one the spec adds, and one with other key types are all reported."""
    spec = spec_named("library_table")
    by_added, by_updated = spec.indexes
    dropped = dataclasses.replace(spec, indexes=(by_added,))
    assert table_differences(LibraryItemModel, dropped) == [
        "LibraryItemModel vs LibraryTable: index by_updated: in the model (user_id (S) / updated_at (N)), not in the spec"
    ]
    added = dataclasses.replace(spec, indexes=(*spec.indexes, IndexSpec("by_played", KeySpec("user_id"))))
    assert table_differences(LibraryItemModel, added) == [
        "LibraryItemModel vs LibraryTable: index by_played: in the spec (user_id (S) / none), not in the model"
    ]
    retyped = dataclasses.replace(spec, indexes=(by_added, dataclasses.replace(by_updated, sort_key=KeySpec("updated_at", "S"))))
    assert table_differences(LibraryItemModel, retyped) == [
        "LibraryItemModel vs LibraryTable: index by_updated keys: model user_id (S) / updated_at (N), spec user_id (S) / updated_at (S)"
    ]


def test_helper_reports_a_model_gsi_the_spec_lacks_and_a_local_index() -> None:
    """A model-only GSI is reported, and so is an LSI (a TableSpec has no way to create one)."""

    class ByPhone(GlobalSecondaryIndex):
        class Meta:
            index_name = "by_phone"
            projection = AllProjection()

        phone_e164 = UnicodeAttribute(hash_key=True)

    class ByCreated(LocalSecondaryIndex):
        class Meta:
            index_name = "by_created"
            projection = AllProjection()

        user_id = UnicodeAttribute(hash_key=True)
        created_at = NumberAttribute(range_key=True)

    class Indexed(Model):
        class Meta:
            table_name = "throwaway"

        user_id = UnicodeAttribute(hash_key=True)
        phone_e164 = UnicodeAttribute()
        created_at = NumberAttribute()
        by_phone = ByPhone()
        by_created = ByCreated()

    assert table_differences(Indexed, spec_named("users_table")) == [
        "Indexed vs UsersTable: index by_phone: in the model (phone_e164 (S) / none), not in the spec",
        "Indexed vs UsersTable: index by_created: a local secondary index, which the spec cannot state",
    ]


def test_helper_reports_ttl_drift_on_either_side() -> None:
    """The TTL attribute's storage name must be the spec's; a spec without TTL means the model has none."""
    assert table_differences(OtpChallengeModel, dataclasses.replace(spec_named("otp_table"), ttl_attribute=None)) == [
        "OtpChallengeModel vs OtpChallengesTable: ttl attribute: model ttl, spec None"
    ]

    class Expiring(Model):
        class Meta:
            table_name = "throwaway"

        challenge_id = UnicodeAttribute(hash_key=True)
        ttl = TTLAttribute(null=True, attr_name="expires")

    assert table_differences(Expiring, spec_named("otp_table")) == [
        "Expiring vs OtpChallengesTable: ttl attribute: model expires, spec ttl"
    ]
    assert model_shape(UserModel).ttl_attribute is None


def test_throwaway_models_stay_out_of_the_subclass_walk() -> None:
    """Models defined by tests are not melody's, so they never show up as unmapped models."""

    class Stray(Model):
        class Meta:
            table_name = "throwaway"

        key = UnicodeAttribute(hash_key=True)

    class StrayChild(Stray):
        pass

    import_package("melody")
    found = model_subclasses("melody")
    assert Stray not in found and StrayChild not in found
    assert found == set(MODEL_TABLES)
    assert StrayChild in model_subclasses("tests")
