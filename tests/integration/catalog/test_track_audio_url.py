"""``GET /music/track/{id}``'s ``audio_url``: a presigned GET of a catalog track's original audio.

Real PostgreSQL (a schema of this module's own, loaded with the small fixture catalogue: the
audio assets added here must not show in other modules' ``has_audio``) and moto's S3 server; the
presigned URL is fetched over HTTP against moto, as a browser would.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.integration.catalog.conftest import FIXTURE, own_catalog
from tests.support.songs import song_wav

pytestmark = pytest.mark.integration

catalog_schema, catalog_executor = own_catalog("test_track_audio_", seeded=False)

TUM_HI_HO = "trk_722773a7d7ce"  # gets an original under catalog/
KOLAVERI = "trk_6a39cf47406f"  # no audio at all
KESARIYA = "trk_bb8536fa586a"  # an audio_assets row whose key is outside the catalog/ prefix


@pytest.fixture(scope="module", name="seeded_catalog")
def _seeded(catalog_executor):
    from melody.catalog.postgres.loader import ensure_catalog
    from melody.catalog.postgres.repository import CatalogRepository

    ensure_catalog(catalog_executor, FIXTURE)
    return CatalogRepository(catalog_executor)


@pytest.fixture()
def original(services, seeded_catalog):
    """TUM_HI_HO's original in the media bucket, registered in ``audio_assets``; the bytes."""
    body = song_wav(2, seed=5)
    key = f"catalog/{TUM_HI_HO}/original.wav"
    s3 = services.storage._client
    bucket = services.settings.media_bucket
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="audio/wav")
    seeded_catalog.set_audio_asset(TUM_HI_HO, key, fmt="wav")
    yield body
    seeded_catalog.db.execute("DELETE FROM audio_assets WHERE track_id = :t", {"t": TUM_HI_HO})
    s3.delete_object(Bucket=bucket, Key=key)


def test_a_track_with_audio_gets_a_presigned_url_that_downloads_it(client, user_headers, services, original):
    body = client.get(f"/api/v1/music/track/{TUM_HI_HO}", headers=user_headers()).json()
    assert body["has_audio"] is True and body["audio_url"]
    url = body["audio_url"]
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == [str(services.settings.media_url_expires_s)]  # the jobs' media expiry
    assert urlsplit(url).path.endswith(f"/catalog/{TUM_HI_HO}/original.wav")

    download = httpx.get(url, timeout=10)
    assert download.status_code == 200 and download.content == original
    # Saved under the song's title, the key's extension kept.
    assert "filename*=UTF-8''" in download.headers["content-disposition"]
    assert download.headers["content-disposition"].endswith(".wav")

    # The signature covers the key: pointing the URL at another object fails.
    tampered = url.replace("original.wav", "other.wav")
    assert httpx.get(tampered, timeout=10).status_code == 403


def test_a_track_without_audio_gets_null(client, user_headers, original):
    body = client.get(f"/api/v1/music/track/{KOLAVERI}", headers=user_headers()).json()
    assert body["has_audio"] is False and body["audio_url"] is None


def test_lists_never_carry_audio_urls(client, user_headers, original):
    headers = user_headers()
    items = client.get("/api/v1/music/search", params={"q": "tum hi ho"}, headers=headers).json()["items"]
    assert TUM_HI_HO in [i["id"] for i in items]
    assert all("audio_url" not in i for i in items)
    client.put(f"/api/v1/library/{TUM_HI_HO}", headers=headers)
    library = client.get("/api/v1/library", headers=headers).json()["items"]
    assert library and "audio_url" not in library[0] and "audio_url" not in (library[0]["track"] or {})


def test_a_key_outside_the_catalog_prefix_is_never_presigned(client, user_headers, seeded_catalog):
    # The search function may read catalog/ only (its IAM grant): anything else is treated as no audio.
    for key in ("stems/abc/dsp/vocals.m4a", "catalog/../uploads/x.wav", "catalog/"):
        with pytest.raises(ValueError):
            seeded_catalog.set_audio_asset(KESARIYA, key)  # refused on write ...
        seeded_catalog.db.execute(  # ... and ignored on read if a row got in some other way
            "INSERT INTO audio_assets (track_id, kind, storage_key) VALUES (:t, 'original', :k)", {"t": KESARIYA, "k": key}
        )
        try:
            body = client.get(f"/api/v1/music/track/{KESARIYA}", headers=user_headers()).json()
            assert body["audio_url"] is None and body["has_audio"] is False, key  # the two never disagree
        finally:
            seeded_catalog.db.execute("DELETE FROM audio_assets WHERE track_id = :t", {"t": KESARIYA})


def test_urls_go_through_the_public_endpoint_when_one_is_set(services, original):
    """Locally browsers reach S3 through the dev stack's /local-s3 gateway: the catalog signs for it too."""
    from melody.core.services import Services

    public = "http://127.0.0.1:8000/local-s3"
    settings = services.settings.model_copy(update={"s3_public_endpoint_url": public, "media_url_expires_s": 120})
    music = Services(settings, executor=services.executor)
    url = music.audio_url(TUM_HI_HO, title="तुम ही हो")
    assert url and url.startswith(f"{public}/{settings.media_bucket}/catalog/{TUM_HI_HO}/original.wav?")
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["120"]
    assert music.audio_url(KOLAVERI) is None


def test_catalog_settings_read_the_jobs_media_url_settings(monkeypatch):
    from melody.core.settings import CatalogSettings, PipelineSettings

    monkeypatch.setenv("MELODY_MEDIA_URL_EXPIRES_S", "600")
    monkeypatch.setenv("MELODY_S3_PUBLIC_ENDPOINT_URL", "http://127.0.0.1:1/local-s3")
    for model in (CatalogSettings, PipelineSettings):
        s = model()
        assert (s.media_url_expires_s, s.s3_public_endpoint_url) == (600, "http://127.0.0.1:1/local-s3"), model


def test_an_asset_that_is_not_an_original_is_not_playable_audio(client, user_headers, seeded_catalog):
    seeded_catalog.set_audio_asset(KESARIYA, "catalog/kesariya/instrumental.m4a", kind="instrumental")
    try:
        body = client.get(f"/api/v1/music/track/{KESARIYA}", headers=user_headers()).json()
        assert body["has_audio"] is False and body["audio_url"] is None
    finally:
        seeded_catalog.db.execute("DELETE FROM audio_assets WHERE track_id = :t", {"t": KESARIYA})
