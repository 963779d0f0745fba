"""Scores (issue 12): uploaded MusicXML/MXL/MIDI/ABC files, their analysis and renderings.

The API side (router, schemas, service, DynamoDB and S3 adapters) never imports music21: the
analysis runs in the score pipeline's ``analyse`` step (:mod:`melody.scores.steps`), which loads
the score engine (``melody_scores``, its own layer) only when it runs.
"""

__all__: list[str] = []
