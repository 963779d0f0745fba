"""Tracing and SnapStart hooks: what a function does at init and after a snapshot is restored."""

from __future__ import annotations

import random
import sys
import types

import pytest

from melody.core import observability, snapstart
from melody.core.services import Services
from melody.core.settings import TokenSettings


def test_tracing_is_off_outside_lambda_and_when_disabled(monkeypatch):
    def handler(event, context):
        return event

    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    assert not observability.tracing_enabled()
    assert observability.trace_handler(handler) is handler  # no Tracer, no X-Ray SDK
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "melody-users")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    assert not observability.tracing_enabled()
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "false")
    assert observability.tracing_enabled()


@pytest.fixture()
def snapshot_runtime(monkeypatch):
    """A stand-in for the runtime's ``snapshot_restore_py``: records what is registered."""
    registered: list[tuple] = []
    module = types.ModuleType("snapshot_restore_py")
    module.register_after_restore = lambda fn, *args, **kwargs: registered.append((fn, args, kwargs))
    module.register_before_snapshot = lambda fn, *args, **kwargs: registered.append((fn, args, kwargs))
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    return registered


def test_no_hook_is_registered_outside_a_snapstart_runtime(monkeypatch):
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails, as on a laptop
    assert snapstart.install_snapstart_hooks(Services(TokenSettings(_env_file=None))) is False


def test_the_lambda_handler_registers_the_restore_hook_for_its_services(snapshot_runtime):
    from melody.api.apps import users_app
    from melody.api.lambda_handler import lambda_handler_for

    services = Services(TokenSettings(_env_file=None))
    lambda_handler_for(users_app(services), services)
    assert snapshot_runtime == [(snapstart.after_restore, (services,), {})]


def test_modules_kept_out_of_init_are_imported_before_the_snapshot(snapshot_runtime, monkeypatch):
    from melody.api.apps import users_app
    from melody.api.lambda_handler import lambda_handler_for

    services = Services(TokenSettings(_env_file=None))
    lambda_handler_for(users_app(services), services, preload=("colorsys",))
    (before, args, _), (after, _, _) = snapshot_runtime
    assert before is snapstart.before_snapshot and after is snapstart.after_restore
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    before(*args)
    assert "colorsys" in sys.modules


def test_after_restore_reseeds_random_and_renews_clients_but_keeps_given_pieces(snapshot_runtime):
    from pynamodb.models import Model

    from melody.users.dynamodb import UserModel

    given_storage = object()
    services = Services(TokenSettings(_env_file=None, stage="test"), storage=given_storage)
    services.users  # noqa: B018 - builds the user store and binds its model
    UserModel._connection = sentinel = object()
    built_users = services.users
    random.seed(42)
    before = random.random()

    random.seed(42)
    snapstart.after_restore(services)

    assert random.random() != before  # every restored environment draws its own sequence
    assert services.users is not built_users  # rebuilt on first use after the restore
    assert services.storage is given_storage  # what tests or the local stack gave is kept
    assert UserModel._connection is not sentinel and issubclass(UserModel, Model)


def test_the_auth_functions_preload_list_imports(snapshot_runtime, monkeypatch, key_file):
    """A name that does not import would fail the snapshot, so every deploy of the auth function."""
    from tests.unit.api.test_lambda_handlers import load_handler

    monkeypatch.setenv("MELODY_STAGE", "test")
    monkeypatch.setenv("MELODY_SIGNING_KEY_FILE", str(key_file))
    load_handler("auth")
    ((before, args, _),) = [entry for entry in snapshot_runtime if entry[0] is snapstart.before_snapshot]
    before(*args)
    assert "phonenumbers" in sys.modules
