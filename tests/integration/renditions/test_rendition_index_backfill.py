"""Renditions written before the ``by_result`` index: invisible to a song's cleanup until the
backfill (``melody renditions backfill-index``) copies their result key to the top level (moto)."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration


def _rendition(result_key: str, semitones: int):
    from melody.renditions.models import Rendition, rendition_id_for

    return Rendition(rendition_id=rendition_id_for(result_key, semitones, 1.0), result_key=result_key, semitones=semitones,
                     tempo=1.0, status="succeeded", created_at=1.0, updated_at=1.0)  # fmt: skip


def test_the_backfill_indexes_renditions_written_before_the_index(dev_settings, monkeypatch, capsys):
    from melody.renditions.dynamodb import DynamoRenditionStore, RenditionModel, backfill_result_key, bind_rendition_model
    from melody_dev.cli import main

    bind_rendition_model(dev_settings)
    store = DynamoRenditionStore()
    result_key = f"{uuid.uuid4().hex * 2}#dsp@1.1.0.a0.2.0"
    new, legacy = _rendition(result_key, 2), _rendition(result_key, -3)
    assert store.create(new) and store.create(legacy)
    RenditionModel(legacy.rendition_id).update(actions=[RenditionModel.result_key.remove()])  # as written before
    assert [r.rendition_id for r in store.of_result(result_key)] == [new.rendition_id]

    for name in ("renditions_table", "dynamodb_endpoint_url", "aws_region"):
        monkeypatch.setenv(f"MELODY_{name.upper()}", str(getattr(dev_settings, name)))
    assert main(["renditions", "backfill-index"]) == 0
    assert "indexed 1 renditions" in capsys.readouterr().err
    assert sorted(r.rendition_id for r in store.of_result(result_key)) == sorted([new.rendition_id, legacy.rendition_id])
    assert backfill_result_key() == 0  # rerunnable: nothing left to set
