"""Melody transcription benchmark: note F-measure of the sung line, both trackers, in one run.

    .venv/bin/python benchmarks/melody.py            # 20 synthetic songs of 20 s + 24 MIR-1K clips (~5 min, 2 cores)
    .venv/bin/python benchmarks/melody.py --quick    # 4 songs, no MIR-1K

Ground truth (synthetic): ``benchmarks/audio_fixtures.py`` renders the vocal line from a list of
notes, exported as ``Track.vocal_notes`` (onset, offset, MIDI). Two references are scored:

* "as written": every note of the list;
* "as sung": adjacent notes of the same pitch with no gap joined into one. The generator renders
  such a pair as one unbroken tone (continuous pitch and level; half the notes start with a short
  noise burst, often not), so no listener or tracker can hear two notes there.

Scores: ``mir_eval.transcription.precision_recall_f1_overlap`` with onset ±50 ms, pitch ±50 cents,
offsets ignored (``offset_ratio=None``), mean over songs; from the clean vocal (``Track.vocals``)
and from the vocal stem the ``dsp`` engine separates from the mix. Seeds 0–19 are scored; the
trackers' constants were set on seeds 100–105. The baseline in the same run is the other tracker.

Real recordings: ``../shared/audio-dev`` has no note or pitch annotations (its MIR-1K clips carry
the vocal alone on one channel, not its pitch), so no accuracy against a human annotation can be
reported. What is reported instead, labelled as such: agreement F between notes from the separated
mix and notes from the clean vocal channel, per tracker (robustness to accompaniment, not accuracy).

Cost: CPU seconds (process time) per minute of audio for transcription alone and for the whole
lead sheet (transcription + beat/key quantisation + chords + MIDI/MusicXML), 44.1 kHz stereo input.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "audio" / "python"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import mir_eval  # noqa: E402
from audio_fixtures import make_track  # noqa: E402

from melody_audio import Audio, analyse, separate  # noqa: E402
from melody_audio.melody import chords_per_bar, lead_sheet, make_grid, transcribe  # noqa: E402

AUDIO_DEV = ROOT.parent / "shared" / "audio-dev"
TRACKERS = ("nmp", "yin")


def as_sung(notes):
    out = []
    for onset, offset, pitch in notes:
        if out and out[-1][2] == pitch and abs(out[-1][1] - onset) < 1e-6:
            out[-1] = (out[-1][0], offset, pitch)
        else:
            out.append((onset, offset, pitch))
    return out


def note_f(ref, est) -> float:
    """mir_eval note F (onset ±50 ms, pitch ±50 cents, no offset criterion)."""
    if not ref or not est:
        return float(not ref and not est)
    hz = lambda p: 440.0 * 2 ** ((np.asarray(p, dtype=float) - 69) / 12)  # noqa: E731
    ri = np.array([[a, b] for a, b, _ in ref])
    ei = np.array([[a, max(b, a + 0.01)] for a, b, _ in est])
    _p, _r, f, _o = mir_eval.transcription.precision_recall_f1_overlap(
        ri, hz([p for *_, p in ref]), ei, hz([p for *_, p in est]),
        onset_tolerance=0.05, pitch_tolerance=50.0, offset_ratio=None)
    return float(f)


def notes_of(x, sr, tracker):
    started = time.process_time()
    notes = transcribe(x, sr, tracker=tracker)
    return [(n.onset_s, n.offset_s, n.pitch) for n in notes], time.process_time() - started


def chord_scores(track, stems):
    """Per bar of the engine's own grid (its beats and downbeats of the mix): the chord from the
    separated instrumental vs the chord sounding at the bar's middle; baseline: the tonic triad of
    the engine's key on every bar."""
    analysis = analyse(Audio(track.mix, track.sr)).to_dict()
    tempo, key = analysis["tempo"], analysis["key"]
    grid = make_grid(tempo["beats"], tempo["downbeats"], tempo["time_signature"], bpm=tempo["bpm"])
    names = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
    tonic = names.index(key["tonic"]) if key["tonic"] in names else 0
    n_bars = int(grid.step(track.mix.shape[-1] / track.sr) // grid.steps_per_bar)
    chords = chords_per_bar(stems.instrumental, stems.sample_rate, grid, tonic_pc=tonic, mode=key["mode"],
                            bars=range(0, n_bars))
    ours, base = [], []
    for chord in chords:
        mid = 0.5 * (grid.time_of_step(chord.bar * grid.steps_per_bar) + grid.time_of_step((chord.bar + 1) * grid.steps_per_bar))
        truth = next(((r, q) for a, b, r, q in track.chords if a <= mid < b), None)
        if truth is None:
            continue
        ours.append((chord.root, chord.quality) == truth)
        base.append((tonic, key["mode"]) == truth)
    return ours, base


def synthetic(seeds):
    rows = {t: {"clean_written": [], "clean_sung": [], "sep_written": [], "sep_sung": [], "cpu": 0.0} for t in TRACKERS}
    rows_chords: dict[str, list] = {"ours": [], "tonic": []}
    audio_s = 0.0
    for seed in seeds:
        track = make_track(seed)
        stems = separate(Audio(track.mix, track.sr), engine="dsp")
        audio_s += track.mix.shape[-1] / track.sr
        written, sung = track.vocal_notes, as_sung(track.vocal_notes)
        ours, base = chord_scores(track, stems)
        rows_chords["ours"] += ours
        rows_chords["tonic"] += base
        for tracker in TRACKERS:
            clean, cpu = notes_of(track.vocals, track.sr, tracker)
            sep, cpu2 = notes_of(stems.vocals, stems.sample_rate, tracker)
            r = rows[tracker]
            r["cpu"] += (cpu + cpu2) / 2
            r["clean_written"].append(note_f(written, clean))
            r["clean_sung"].append(note_f(sung, clean))
            r["sep_written"].append(note_f(written, sep))
            r["sep_sung"].append(note_f(sung, sep))
        print(f"  seed {seed}: " + ", ".join(
            f"{t} clean {rows[t]['clean_sung'][-1]:.2f} sep {rows[t]['sep_sung'][-1]:.2f}" for t in TRACKERS),
            file=sys.stderr)
    return rows, audio_s, rows_chords


def lead_sheet_cost(minutes: float = 2.0):
    """CPU s per audio minute of the whole lead sheet on a long synthetic song (stems as the pipeline has them)."""
    track = make_track(7, duration=60.0 * minutes)
    analysis = analyse(Audio(track.mix, track.sr)).to_dict()
    out = {}
    for tracker in TRACKERS:
        started = time.process_time()
        sheet = lead_sheet(track.vocals, track.sr, analysis, instrumental=track.instrumental, tracker=tracker)
        out[tracker] = ((time.process_time() - started) / minutes, len(sheet.grid_notes))
    return out


def mir1k():
    manifest = AUDIO_DEV / "manifest.jsonl"
    if not manifest.exists():
        return None
    clips = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
    clips = [c for c in clips if c["id"].startswith("mir1k")]
    agree = {t: [] for t in TRACKERS}
    for clip in clips:
        raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(AUDIO_DEV / clip["file"]), "-f", "f32le",
                              "-ac", "2", "-ar", "44100", "pipe:"], capture_output=True, check=True).stdout
        lr = np.frombuffer(raw, np.float32).reshape(-1, 2).T
        vocal = lr[1]
        mix = 0.5 * (lr[0] + lr[1])
        stems = separate(Audio(np.stack([mix, mix]), 44100), engine="dsp")
        for tracker in TRACKERS:
            ref, _ = notes_of(vocal, 44100, tracker)
            est, _ = notes_of(stems.vocals, stems.sample_rate, tracker)
            agree[tracker].append(note_f(ref, est))
    return agree, len(clips)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seeds = range(4) if args.quick else range(20)
    rows, audio_s, chord_rows = synthetic(seeds)
    print(f"## Melody transcription: {len(seeds)} synthetic songs of 20 s (note F, onset ±50 ms, pitch ±50 cents)")
    print("| tracker | clean vocal, as sung | clean vocal, as written | separated vocal, as sung | "
          "separated vocal, as written | transcription CPU s / min audio |")
    print("| --- | --- | --- | --- | --- | --- |")
    for t in TRACKERS:
        r = rows[t]
        label = {"nmp": "basic-pitch note model (ONNX, ours: default)", "yin": "YIN + same decoder (numpy, baseline)"}[t]
        print(f"| {label} | {np.mean(r['clean_sung']):.3f} | {np.mean(r['clean_written']):.3f} | "
              f"{np.mean(r['sep_sung']):.3f} | {np.mean(r['sep_written']):.3f} | {r['cpu'] / audio_s * 60:.2f} |")
    n = len(chord_rows["ours"])
    print(f"\n## Chord symbols: {n} bars of the synthetic songs (root and major/minor, the bar's chord at its middle)")
    print("| method | accuracy |")
    print("| --- | --- |")
    print(f"| chroma of the separated instrumental per bar + triad templates (ours) | {np.mean(chord_rows['ours']):.3f} |")
    print(f"| the key's tonic triad on every bar (baseline) | {np.mean(chord_rows['tonic']):.3f} |")
    costs = lead_sheet_cost(0.5 if args.quick else 2.0)
    print("\n## Whole lead sheet (transcription + quantisation + chords + MIDI/MusicXML), 44.1 kHz stereo")
    print("| tracker | CPU s / min audio | notes |")
    print("| --- | --- | --- |")
    for t, (cpu, n) in costs.items():
        print(f"| {t} | {cpu:.2f} | {n} |")
    real = None if args.quick else mir1k()
    if real:
        agree, n = real
        print(f"\n## MIR-1K ({n} clips): no pitch annotations in ../shared/audio-dev; agreement only")
        print("| tracker | note F, separated mix vs clean vocal channel (agreement, not accuracy) |")
        print("| --- | --- |")
        for t in TRACKERS:
            print(f"| {t} | {np.mean(agree[t]):.3f} |")
    best = "nmp"
    r = rows[best]
    print("\n## Targets (default tracker: nmp)")
    print("| target | measured | result |")
    print("| --- | --- | --- |")
    for name, value, target in (("note F clean vocal (as sung) >= 0.80", np.mean(r["clean_sung"]), 0.80),
                                ("note F separated vocal (as sung) >= 0.65", np.mean(r["sep_sung"]), 0.65)):
        print(f"| {name} | {value:.3f} | {'PASS' if value >= target else 'FAIL'} |")
    cost = costs[best][0]
    print(f"| lead sheet <= 5 s CPU / min | {cost:.2f} | {'PASS' if cost <= 5 else 'FAIL'} |")


if __name__ == "__main__":
    main()
