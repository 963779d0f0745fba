"""Compare a PynamoDB model with the :class:`~melody.core.resources.TableSpec` its table is built from.

CDK and the local stack create tables from ``TABLES``; the models restate the keys, indexes and TTL.
Both sides are reduced to a :class:`TableShape` (storage names and DynamoDB types) and compared;
the differences come back as readable strings. Pure: classes and specs in, strings out.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from pynamodb.attributes import Attribute, TTLAttribute
from pynamodb.indexes import GlobalSecondaryIndex, Index
from pynamodb.models import Model

from melody.core.resources import KeySpec, TableSpec

Key = tuple[str, str]  # (attribute storage name, DynamoDB type S/N/B)


@dataclass(frozen=True)
class TableShape:
    partition_key: Key
    sort_key: Key | None
    indexes: Mapping[str, tuple[Key, Key | None]]  # GSI name -> (partition key, sort key)
    ttl_attribute: str | None
    other_indexes: tuple[str, ...] = field(default=())  # local indexes: a TableSpec cannot state them


def _key(spec: KeySpec | None) -> Key | None:
    return (spec.name, spec.type) if spec else None


def spec_shape(spec: TableSpec) -> TableShape:
    key = _key(spec.partition_key)
    assert key is not None
    indexes: dict[str, tuple[Key, Key | None]] = {}
    for index in spec.indexes:
        index_key = _key(index.partition_key)
        assert index_key is not None
        indexes[index.name] = (index_key, _key(index.sort_key))
    return TableShape(key, _key(spec.sort_key), indexes, spec.ttl_attribute)


def _keys(attributes: Mapping[str, Attribute], owner: str) -> tuple[Key, Key | None]:
    hash_keys = [(a.attr_name, a.attr_type) for a in attributes.values() if a.is_hash_key]
    range_keys = [(a.attr_name, a.attr_type) for a in attributes.values() if a.is_range_key]
    if len(hash_keys) != 1 or len(range_keys) > 1:
        raise ValueError(f"{owner}: {len(hash_keys)} hash keys and {len(range_keys)} range keys")
    return hash_keys[0], (range_keys[0] if range_keys else None)


def _indexes(model: type[Model]) -> Iterator[Index]:
    """The index attributes declared on the model or its bases (subclasses may override a name)."""
    seen: set[str] = set()
    for cls in model.__mro__:
        for name, value in vars(cls).items():
            if isinstance(value, Index) and name not in seen:
                seen.add(name)
                yield value


def model_shape(model: type[Model]) -> TableShape:
    attributes = model.get_attributes()
    partition_key, sort_key = _keys(attributes, model.__name__)
    ttl = [a.attr_name for a in attributes.values() if isinstance(a, TTLAttribute)]
    indexes: dict[str, tuple[Key, Key | None]] = {}
    others: list[str] = []
    for index in _indexes(model):
        name = index.Meta.index_name
        if isinstance(index, GlobalSecondaryIndex):
            indexes[name] = _keys(index.Meta.attributes, f"{model.__name__}.{name}")
        else:
            others.append(name)
    return TableShape(partition_key, sort_key, indexes, ttl[0] if ttl else None, tuple(sorted(others)))


def _show(key: Key | None) -> str:
    return f"{key[0]} ({key[1]})" if key else "none"


def _show_index(keys: tuple[Key, Key | None]) -> str:
    return f"{_show(keys[0])} / {_show(keys[1])}"


def shape_differences(model: TableShape, spec: TableShape) -> list[str]:
    """What the model states differently from the spec; empty when they agree."""
    problems: list[str] = []
    if model.partition_key != spec.partition_key:
        problems.append(f"partition key: model {_show(model.partition_key)}, spec {_show(spec.partition_key)}")
    if model.sort_key != spec.sort_key:
        problems.append(f"sort key: model {_show(model.sort_key)}, spec {_show(spec.sort_key)}")
    for name in sorted(model.indexes.keys() | spec.indexes.keys()):
        if name not in spec.indexes:
            problems.append(f"index {name}: in the model ({_show_index(model.indexes[name])}), not in the spec")
        elif name not in model.indexes:
            problems.append(f"index {name}: in the spec ({_show_index(spec.indexes[name])}), not in the model")
        elif model.indexes[name] != spec.indexes[name]:
            problems.append(f"index {name} keys: model {_show_index(model.indexes[name])}, spec {_show_index(spec.indexes[name])}")
    for name in model.other_indexes:
        problems.append(f"index {name}: a local secondary index, which the spec cannot state")
    if model.ttl_attribute != spec.ttl_attribute:
        problems.append(f"ttl attribute: model {model.ttl_attribute}, spec {spec.ttl_attribute}")
    return problems


def table_differences(model: type[Model], spec: TableSpec) -> list[str]:
    """``"<Model> vs <TableSpec construct id>: <what differs>"`` for every difference."""
    prefix = f"{model.__name__} vs {spec.construct_id}"
    return [f"{prefix}: {problem}" for problem in shape_differences(model_shape(model), spec_shape(spec))]


def model_subclasses(package_prefix: str = "melody") -> set[type[Model]]:
    """Every imported :class:`Model` subclass (recursively) defined in ``package_prefix``'s modules.

    Restricting to the package keeps models defined by tests (throwaway subclasses) out.
    """
    found: set[type[Model]] = set()
    seen: set[type[Model]] = set()
    pending: list[type[Model]] = list(Model.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        pending.extend(cls.__subclasses__())
        if cls.__module__ == package_prefix or cls.__module__.startswith(f"{package_prefix}."):
            found.add(cls)
    return found


def import_package(name: str = "melody") -> None:
    """Import every module of a package, so that every model it defines is a live subclass."""
    package = importlib.import_module(name)
    for module in pkgutil.walk_packages(package.__path__, f"{name}."):
        importlib.import_module(module.name)
