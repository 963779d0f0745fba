// Pure helpers of key/tempo renditions (no imports: tested in Node, tests/unit/web).

export const isIdentity = (semitones, tempo) => semitones === 0 && Math.abs(tempo - 1) < 1e-9;

/**
 * The same musical position in another tempo: renditions at tempo r are (1/r)× as long as the
 * original, so original time = t × r_old and the new element's time = original time / r_new.
 */
export function mapPosition(seconds, oldTempo, newTempo) {
  return (seconds * oldTempo) / newTempo;
}

/** Shift a key name by `semitones` (for showing the target while the rendition is being made). */
const NOTES = ['C', 'C♯', 'D', 'E♭', 'E', 'F', 'F♯', 'G', 'A♭', 'A', 'B♭', 'B'];
const INDEX = { C: 0, 'B#': 0, 'C#': 1, 'C♯': 1, Db: 1, 'D♭': 1, D: 2, 'D#': 3, 'D♯': 3, Eb: 3, 'E♭': 3, E: 4, Fb: 4, F: 5, 'E#': 5,
  'F#': 6, 'F♯': 6, Gb: 6, 'G♭': 6, G: 7, 'G#': 8, 'G♯': 8, Ab: 8, 'A♭': 8, A: 9, 'A#': 10, 'A♯': 10, Bb: 10, 'B♭': 10, B: 11, Cb: 11 };
export function shiftTonic(tonic, semitones) {
  const i = INDEX[String(tonic || '').trim()];
  if (i === undefined) return null;
  return NOTES[(((i + semitones) % 12) + 12) % 12];
}
