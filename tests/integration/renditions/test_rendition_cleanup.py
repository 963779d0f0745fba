"""Deleting a song's last job deletes its renditions: moto DynamoDB and S3, the local ASL runner, the
real audio engine. Asked for again once the song is converted anew, a rendition runs again."""

from __future__ import annotations

import pytest

from tests.integration.renditions.test_renditions_pipeline import converted_job, wait_rendition

pytestmark = pytest.mark.integration


def stems_stored(services, rendition) -> list[bool]:
    from melody.renditions.models import STEMS, media_key

    return [services.storage.head(services.settings.media_bucket, media_key(rendition, stem)) is not None for stem in STEMS]


def rendered(services, user_id: str, job, semitones: int, tempo: float):
    made, _ = services.renditions.request(user_id, job.job_id, semitones=semitones, tempo=tempo)
    assert wait_rendition(services, made.rendition_id)["status"] == "SUCCEEDED"
    return services.renditions.get(user_id, job.job_id, made.rendition_id)


def test_the_last_job_takes_its_renditions_with_it_and_they_render_again_later(stack):
    from melody.renditions.dynamodb import DynamoRenditionStore
    from melody.renditions.models import Rendition, rendition_id_for

    alice, bob = converted_job(stack, "usr_clean1", seed=1401), converted_job(stack, "usr_clean2", seed=1401)
    carol = converted_job(stack, "usr_clean3", seed=1402)
    assert alice.result_key == bob.result_key != carol.result_key
    shared, other = rendered(stack, "usr_clean1", alice, -2, 0.9), rendered(stack, "usr_clean3", carol, -2, 0.9)
    store = DynamoRenditionStore()
    running = Rendition(rendition_id=rendition_id_for(alice.result_key, 4, 1.0), result_key=alice.result_key, semitones=4,
                        tempo=1.0, status="processing", created_at=1.0, updated_at=1.0)  # fmt: skip
    assert store.create(running)

    stack.jobs.delete("usr_clean1", alice.job_id)  # Bob's job still plays the song: nothing goes
    assert store.get(shared.rendition_id) is not None and stems_stored(stack, shared) == [True, True]

    stack.jobs.delete("usr_clean2", bob.job_id)  # the last one
    assert store.get(shared.rendition_id) is None and stems_stored(stack, shared) == [False, False]
    failed = store.get(running.rendition_id)
    assert failed is not None and failed.status == "failed" and failed.error.code == "stems_missing"
    assert store.get(other.rendition_id) is not None and stems_stored(stack, other) == [True, True]  # Carol's song

    # Converted anew: same result, same rendition id, but its first execution's name is taken.
    again = converted_job(stack, "usr_clean1", seed=1401)
    assert again.result_key == alice.result_key
    made, ready = stack.renditions.request("usr_clean1", again.job_id, semitones=-2, tempo=0.9)
    assert not ready and made.rendition_id == shared.rendition_id and made.attempt == 1
    assert wait_rendition(stack, f"{made.rendition_id}-r1")["status"] == "SUCCEEDED"
    assert stack.renditions.get("usr_clean1", again.job_id, made.rendition_id).status == "succeeded"
    assert stems_stored(stack, made) == [True, True]
