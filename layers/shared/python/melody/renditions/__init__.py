"""Renditions: a converted song's stems transposed and/or time-stretched (sing along, issue 13).

``POST /audio/jobs/{job_id}/renditions`` asks for one (semitones -6..+6, tempo 0.75..1.25); the
renditions state machine (``statemachines/renditions.asl.json``) renders both stems with the audio
engine's :mod:`melody_audio.transform`; ``GET .../renditions/{rendition_id}`` reports it. A rendition
is shared by every job of the same content and engine (the cache key is the job's result, the
semitones and the tempo to two decimals), so the same request is instant the second time.
"""

from __future__ import annotations

from melody.renditions.models import Rendition, RenditionStatus, rendition_id_for

__all__ = ["Rendition", "RenditionStatus", "rendition_id_for"]
