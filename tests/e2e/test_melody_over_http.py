"""Issue 12's melody walk-through over HTTP against ``melody dev``: upload a song → its lead sheet
(MIDI + MusicXML) exists, its notes are in the song's key, and only its owner can get it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.e2e.test_pipeline_over_http import login, upload, wait
from tests.support.songs import song_wav

pytestmark = pytest.mark.e2e

C_MAJOR = {0, 2, 4, 5, 7, 9, 11}
STEP_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def test_an_uploaded_song_gets_its_lead_sheet_in_its_key(dev_stack):
    api = login(dev_stack)
    job_id, sent = upload(api, song_wav(16, bpm=120, seed=44), name="melody.wav")
    assert sent.status_code == 204
    done = wait(api, job_id, timeout=300)
    assert done["status"] == "succeeded", done

    answer = api.get(f"/audio/jobs/{job_id}/melody")
    assert answer.status_code == 200, answer.text
    sheet = answer.json()
    assert sheet["status"] == "succeeded" and sheet["notes_count"] >= 8, sheet
    assert sheet["key"] == {"tonic": "C", "mode": "major"} and sheet["time_signature"] == "4/4"
    assert sheet["in_key_ratio"] >= 0.9

    xml = httpx.get(sheet["downloads"]["musicxml"], timeout=30)
    assert xml.status_code == 200
    root = ET.fromstring(xml.content.split(b"\n", 2)[2])
    assert root.find("./part/measure/attributes/key/fifths").text == "0"
    pcs = [(STEP_PC[p.find("step").text] + int(p.findtext("alter") or 0)) % 12 for p in root.iter("pitch")]
    assert pcs and sum(pc in C_MAJOR for pc in pcs) / len(pcs) >= 0.9  # the notes match the song's key
    midi = httpx.get(sheet["downloads"]["midi"], timeout=30)
    assert midi.status_code == 200 and midi.content.startswith(b"MThd")
    notes = httpx.get(sheet["downloads"]["notes"], timeout=30).json()
    assert len(notes["notes"]) >= sheet["notes_count"] - 2 and notes["bar_times_s"]

    stranger = login(dev_stack)
    refused = stranger.get(f"/audio/jobs/{job_id}/melody")
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "job_not_found"
    assert httpx.get(f"{dev_stack.base_url}/api/v1/audio/jobs/{job_id}/melody").status_code == 401


def test_a_job_still_processing_has_no_melody_yet(dev_stack):
    api = login(dev_stack)
    created = api.post("/audio/uploads", json={"filename": "later.wav", "content_type": "audio/wav", "size_bytes": 1000})
    job_id = created.json()["job_id"]
    answer = api.get(f"/audio/jobs/{job_id}/melody")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "job_not_ready"
