"""Developer keys: shown once, stored as an HMAC only, listed by prefix, revoked at once; the routes."""

from __future__ import annotations

import hashlib
import hmac
import logging

import pytest

from melody.core.errors import Conflict, Forbidden, NotFound, Unauthorized
from melody.developer import keys as keylib
from tests.unit.developer.fakes_keys import MovableClock, developer_service


def test_a_key_has_the_live_prefix_and_only_its_hmac_is_stored():
    service, store, _ = developer_service()
    record, key = service.create_key("usr_a", name="my app", plan="free")
    assert keylib.KEY_SHAPE.match(key) and key.startswith("mk_live_")
    [stored] = store.items.values()
    assert stored.key_hash == hmac.new(b"test-pepper", key.encode(), hashlib.sha256).hexdigest()
    assert key not in stored.model_dump_json()  # not the key, not its secret part
    assert key.removeprefix("mk_live_") not in stored.model_dump_json()
    assert stored.prefix == key[:14] + "…" and record.plan == "free"


def test_the_pepper_matters():
    a = keylib.hash_key(b"one", "mk_live_x")
    assert a != keylib.hash_key(b"two", "mk_live_x") and a != hashlib.sha256(b"mk_live_x").hexdigest()


def test_two_keys_differ_and_each_authenticates_as_itself():
    service, _, _ = developer_service()
    r1, k1 = service.create_key("usr_a", name="one", plan="free")
    r2, k2 = service.create_key("usr_a", name="two", plan="free")
    assert k1 != k2 and r1.key_id != r2.key_id
    assert service.authenticate(k1).key_id == r1.key_id
    assert service.authenticate(k2).key_id == r2.key_id


@pytest.mark.parametrize("presented", [None, ""])
def test_a_missing_key_is_401_missing_api_key(presented):
    service, _, _ = developer_service()
    with pytest.raises(Unauthorized) as err:
        service.authenticate(presented)
    assert err.value.code == "missing_api_key" and err.value.headers["WWW-Authenticate"].startswith("ApiKey")


@pytest.mark.parametrize("presented", ["nope", "mk_live_short", "mk_live_" + "A" * 43, "mk_test_" + "A" * 43])
def test_unknown_or_malformed_keys_are_401_invalid_api_key_and_logged(presented, caplog):
    service, _, _ = developer_service()
    with caplog.at_level(logging.WARNING), pytest.raises(Unauthorized) as err:
        service.authenticate(presented)
    assert err.value.code == "invalid_api_key"
    events = [r for r in caplog.records if r.getMessage() == "security event"]
    assert events and events[-1].event == "api_key_rejected"
    assert presented not in caplog.text  # never the key


def test_revocation_is_immediate_and_a_security_event(caplog):
    service, _, _ = developer_service()
    record, key = service.create_key("usr_a", name="app", plan="free")
    service.authenticate(key)
    revoked = service.revoke_key("usr_a", record.key_id)
    assert revoked.revoked_at is not None and not revoked.active
    with caplog.at_level(logging.WARNING), pytest.raises(Unauthorized) as err:
        service.authenticate(key)
    assert err.value.code == "invalid_api_key"
    event = [r for r in caplog.records if r.getMessage() == "security event"][-1]
    assert event.reason == "revoked" and event.key_id == record.key_id and key not in caplog.text
    # revoking again is harmless and keeps the first revocation's time
    assert service.revoke_key("usr_a", record.key_id).revoked_at == revoked.revoked_at


def test_another_users_key_cannot_be_revoked_or_seen():
    service, _, _ = developer_service()
    record, key = service.create_key("usr_a", name="app", plan="free")
    with pytest.raises(NotFound) as err:
        service.revoke_key("usr_b", record.key_id)
    assert err.value.code == "api_key_not_found"
    assert service.list_keys("usr_b") == []
    assert service.authenticate(key).user_id == "usr_a"
    with pytest.raises(NotFound):
        service.revoke_key("usr_a", "key_../../x")


def test_plans_must_exist_and_be_self_serve():
    service, _, _ = developer_service(self_serve_plans=("free",))
    with pytest.raises(Forbidden) as err:
        service.create_key("usr_a", name="x", plan="pro")
    assert err.value.code == "plan_not_available"
    with pytest.raises(NotFound):
        service.create_key("usr_a", name="x", plan="platinum")
    service, _, _ = developer_service(self_serve_plans=("free", "pro"))
    assert service.create_key("usr_a", name="x", plan="pro")[0].plan == "pro"


def test_active_keys_are_capped_and_revoked_ones_do_not_count():
    service, _, _ = developer_service(max_keys_per_user=2)
    first, _ = service.create_key("usr_a", name="1", plan="free")
    service.create_key("usr_a", name="2", plan="free")
    with pytest.raises(Conflict) as err:
        service.create_key("usr_a", name="3", plan="free")
    assert err.value.code == "too_many_api_keys"
    service.revoke_key("usr_a", first.key_id)
    service.create_key("usr_a", name="3", plan="free")


def test_last_used_is_written_at_most_once_a_minute():
    clock = MovableClock()
    service, store, _ = developer_service(clock=clock)
    _, key = service.create_key("usr_a", name="app", plan="free")
    for _ in range(5):
        service.authenticate(key)
    assert store.touched == 1
    clock.t += 61
    service.authenticate(key)
    assert store.touched == 2


def test_authorization_apikey_scheme_is_parsed():
    assert keylib.parse_authorization("ApiKey mk_live_abc") == "mk_live_abc"
    assert keylib.parse_authorization("apikey  mk_live_abc ") == "mk_live_abc"
    assert keylib.parse_authorization("Bearer mk_live_abc") is None
    assert keylib.parse_authorization(None) is None and keylib.parse_authorization("ApiKey") is None


@pytest.mark.parametrize("job_id", ["job_" + "a" * 41, "job_../x", "nope", "job_"])
def test_analyze_job_ids_are_checked_before_any_read(job_id):
    service, _, meter = developer_service()
    record, _ = service.create_key("usr_a", name="app", plan="free")
    meter.get_job = lambda _: pytest.fail("read with a malformed id")  # type: ignore[method-assign]
    with pytest.raises(NotFound):
        service.analyze_job(record, job_id)
