"""Demo songs for the local stack: a few clearly labelled tracks with audio, so that every part of
the app (playback, stems, analysis, "ready to sing") works on a fresh checkout.

On each start of ``melody dev`` (unless ``MELODY_DEMO_SONGS=0``): the demo tracks are upserted
into the catalog (idempotent: fixed ids), and a background thread synthesises each one's audio with
the project's song generator (``tests/support/songs.py``: chords, bass, a kick and a sung-like
lead), then attaches it through the operators' attach path (``CatalogAudioService.attach_file``:
stored under ``catalog/``, the normal pipeline run on it). PostgreSQL keeps the tracks across
restarts while moto starts empty, so audio missing from S3 is made and attached again; the audio is
deterministic (same seed, same bytes), so its content hash and results are the same every time.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from melody.catalog.audio_admin import CATALOG_OPERATOR, audio_key
from melody.catalog.models import SongIn

DEMO_ARTIST = "Melody Studio"
DEMO_ALBUM = "Melody Studio demos"
DEMO_SECONDS = 20
DEMO_UPLOAD_ID = "upl_demo1"
GENERATOR = Path(__file__).resolve().parents[3] / "tests" / "support" / "songs.py"


@dataclass(frozen=True)
class DemoSong:
    track_id: str
    title: str
    title_latin: str | None
    language: str
    bpm: float
    seed: int

    def song(self) -> SongIn:
        return SongIn(
            id=self.track_id,
            title=self.title,
            title_latin=self.title_latin,
            artists=[DEMO_ARTIST],
            album=DEMO_ALBUM,
            album_kind="album",
            language=self.language,
            year=2025,
            duration_s=DEMO_SECONDS,
            popularity=1,
            genres=["demo"],
        )

    @property
    def filename(self) -> str:
        return f"{self.track_id}.wav"


DEMO_SONGS: tuple[DemoSong, ...] = (
    DemoSong("trk_melodydemo_hi", "Melody Studio demo — सुबह की धुन", "Melody Studio demo — Subah ki Dhun", "hi", 96.0, 101),
    DemoSong("trk_melodydemo_ta", "Melody Studio demo — காலை பாட்டு", "Melody Studio demo — Kaalai Paattu", "ta", 110.0, 102),
    DemoSong("trk_melodydemo_en", "Melody Studio demo — Morning Song", None, "en", 120.0, 103),
)


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("melody_demo_songs_generator", GENERATOR)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"the song generator is missing: {GENERATOR}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ensure_demo_tracks(catalog: Any) -> list[str]:
    """Upsert the demo tracks (idempotent); returns their ids."""
    catalog.upsert_songs([d.song() for d in DEMO_SONGS])
    return [d.track_id for d in DEMO_SONGS]


def attach_missing_audio(services: Any, *, work_dir: Path | None = None) -> list[str]:
    """Synthesise and attach each demo song whose audio is not in the media bucket; returns the job
    ids started (none when every demo song's audio is there already)."""
    bucket = services.settings.media_bucket
    started: list[str] = []
    generator = None
    for demo in DEMO_SONGS:
        key = audio_key(demo.track_id, DEMO_UPLOAD_ID, demo.filename)
        if services.catalog.audio_asset_key(demo.track_id) == key and services.storage.head(bucket, key) is not None:
            continue
        generator = generator or _generator()
        with tempfile.TemporaryDirectory(dir=work_dir) as folder:
            path = Path(folder) / demo.filename
            path.write_bytes(generator.song_wav(DEMO_SECONDS, bpm=demo.bpm, seed=demo.seed))
            result = services.catalog_audio.attach_file(
                demo.track_id, str(path), user_id=CATALOG_OPERATOR, content_type="audio/wav", upload_id=DEMO_UPLOAD_ID
            )
        started.append(result.job.job_id)
    return started


def start_demo_songs(services: Any) -> threading.Thread | None:
    """The local stack's demo songs: tracks now, their audio and pipeline in a background thread
    (start-up never waits for synthesis or the pipeline). ``MELODY_DEMO_SONGS=0`` turns it off."""
    if os.environ.get("MELODY_DEMO_SONGS", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    ensure_demo_tracks(services.catalog)

    def run() -> None:
        try:
            jobs = attach_missing_audio(services, work_dir=Path(services.settings.work_dir))
        except Exception as exc:  # a demo must never take the stack down
            print(f"melody dev: demo songs not attached ({type(exc).__name__}: {exc})", file=sys.stderr, flush=True)
            return
        if jobs:
            print(f"melody dev: demo songs attached, pipeline started ({len(jobs)} jobs)", file=sys.stderr, flush=True)

    thread = threading.Thread(target=run, name="demo-songs", daemon=True)
    thread.start()
    return thread
