"""Pure parts of catalog audio, attributes, "Listen on" links and the home screen (fakes only)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from melody.catalog.attributes import attributes_from_analysis
from melody.catalog.audio_admin import CatalogAudioService, audio_key
from melody.catalog.home import HomeService
from melody.catalog.models import Track
from melody.catalog.ports import NoInstrumentalStatus
from melody.catalog.schemas import ExternalLinkOut, provider_url
from melody.core.errors import InvalidInput, NotFound

PACKAGE = Path(__file__).resolve().parents[3] / "layers" / "shared" / "python" / "melody" / "catalog"


@pytest.mark.parametrize("module", ["attributes.py", "audio_admin.py", "home.py", "activity.py"])
def test_new_domain_modules_import_no_aws_sdk_web_framework_or_driver(module):
    tree = ast.parse((PACKAGE / module).read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not {n for n in names if n.split(".")[0] in {"boto3", "botocore", "pynamodb", "psycopg", "fastapi", "starlette"}}


def test_attributes_from_an_analysis_document():
    attrs = attributes_from_analysis({
        "tempo": {"bpm": 119.96}, "key": {"tonic": "A", "mode": "minor", "camelot": "8A"},
        "loudness": {"integrated_lufs": -14.04}, "energy": 1.3,
    })
    assert attrs.model_dump() == {"bpm": 120.0, "key": "A minor", "camelot": "8A", "energy": 1.0, "loudness_lufs": -14.0}
    assert attributes_from_analysis({"tempo": "x", "energy": float("nan")}).is_empty()


def test_listen_on_links_are_made_from_spotify_and_youtube_ids():
    assert provider_url("spotify", "4uLU6hMCjMI75M1A2tKUQC") == "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC"
    assert provider_url("youtube", "dQw4w9WgXcQ") == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    assert provider_url("lastfm", "abc") is None and provider_url("youtube", "a b/../c") is None
    kept = ExternalLinkOut.of("spotify", "x1234", "https://open.spotify.com/track/other")
    assert kept.url == "https://open.spotify.com/track/other"


class FakeCatalog:
    def __init__(self) -> None:
        self.assets: dict[str, str] = {}

    def exists(self, track_id: str) -> bool:
        return track_id == "trk_known1"

    def set_audio_asset(self, track_id, storage_key, *, kind="original", fmt=None) -> None:
        self.assets[track_id] = storage_key


class FakeStorage:
    def __init__(self) -> None:
        self.objects: dict[str, int] = {}

    def presign_post(self, bucket, key, *, content_type, max_bytes, expires_s):
        return {"url": "http://s3/", "fields": {"key": key}, "expires_in": expires_s}

    def head(self, bucket, key):
        return {"ContentLength": self.objects[key]} if key in self.objects else None

    def upload(self, path, bucket, key, *, content_type) -> None:
        self.objects[key] = Path(path).stat().st_size


class FakeConversions:
    def __init__(self) -> None:
        self.started: list[tuple[str, str]] = []

    def convert_track(self, user_id, track_id, engine):
        from melody.conversions.models import Job

        self.started.append((user_id, track_id))
        return Job(job_id="job_1", user_id=user_id, status="queued", bucket="m", key="k", created_at=0, updated_at=0)


def _service():
    catalog, storage, conversions = FakeCatalog(), FakeStorage(), FakeConversions()
    service = CatalogAudioService(catalog, storage, conversions, media_bucket="m", max_bytes=1000, upload_expires_s=900)
    return service, catalog, storage, conversions


def test_upload_form_then_attach_records_the_asset_and_starts_the_pipeline(tmp_path):
    service, catalog, storage, conversions = _service()
    key, form = service.upload_form("trk_known1", filename="../My Song.wav", content_type="audio/wav", size_bytes=10)
    assert key.startswith("catalog/trk_known1/upl_") and key.endswith("/My_Song.wav") and form["fields"]["key"] == key
    with pytest.raises(NotFound):
        service.attach("trk_known1", key, user_id="usr_a")  # nothing uploaded yet
    storage.objects[key] = 10
    result = service.attach("trk_known1", key, user_id="usr_a")
    assert catalog.assets == {"trk_known1": key} and conversions.started == [("usr_a", "trk_known1")] and result.job.job_id == "job_1"
    with pytest.raises(InvalidInput):
        service.attach("trk_known1", "catalog/trk_other/x/a.wav", user_id="usr_a")
    with pytest.raises(InvalidInput):
        service.upload_form("trk_known1", filename="a.wav", content_type="audio/wav", size_bytes=1001)
    with pytest.raises(NotFound):
        service.upload_form("trk_missing", filename="a.wav", content_type="audio/wav", size_bytes=1)
    song = tmp_path / "demo.wav"
    song.write_bytes(b"RIFF" + b"\0" * 40)
    attached = service.attach_file("trk_known1", str(song), upload_id="upl_demo1")
    assert attached.key == audio_key("trk_known1", "upl_demo1", "demo.wav") == "catalog/trk_known1/upl_demo1/demo.wav"


def _track(i: int, language: str = "hi") -> Track:
    return Track(id=f"trk_t{i:04d}", title=f"T{i}", title_latin=None, artists=["A"], album=None, language=language, duration_s=1)


class HomeCatalog:
    def __init__(self, plays: int) -> None:
        self.plays = plays
        self.asked: list[list[str]] = []

    def trending_in(self, *, since, languages, limit):
        self.asked.append(languages)
        return [(_track(i), 3) for i in range(self.plays)]

    def popular(self, *, languages, limit):
        return [_track(100 + i) for i in range(3)]

    def tracks_with_audio(self, *, languages, limit):
        return []

    def get_tracks(self, ids):
        return {i: _track(int(i[5:])) for i in ids}

    def with_audio(self, ids):
        return {i for i in ids if i == "trk_t0001"}


class Prefs:
    def preferred_languages(self, user_id):
        return ["ta", "ta", "hi"]


class Activity:
    def recently_played(self, user_id, *, limit):
        return ["trk_t0001"]

    def converted_tracks(self, user_id, *, limit):
        return []


class Clock:
    def now(self) -> float:
        return 1_700_000_000.0


@pytest.mark.parametrize(("plays", "source"), [(2, "popularity"), (6, "plays")])
def test_home_sections_trending_source_and_empty_sections_left_out(plays, source):
    catalog = HomeCatalog(plays)
    home = HomeService(catalog, Prefs(), Activity(), NoInstrumentalStatus(), Clock()).home("usr_a")
    assert home.languages == ["ta", "hi"] and catalog.asked == [["ta", "hi"]]
    assert [s.id for s in home.sections] == ["trending", "recently_played"]
    assert home.sections[0].source == source
    played = home.sections[1].items[0]
    assert played.track.id == "trk_t0001" and played.has_audio and played.instrumental.status == "none"
    override = HomeService(HomeCatalog(0), Prefs(), Activity(), NoInstrumentalStatus(), Clock()).home("usr_a", language="en")
    assert override.languages == ["en"]
