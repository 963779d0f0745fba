"""Engine-wide defaults (callers may override per call)."""

WORKING_RATE = 44100          # Hz: every decoded signal is resampled to this rate
MAX_DURATION_S = 15 * 60      # longer inputs are refused with ``too_long``
SILENCE_DBFS = -80.0          # a peak below this is ``silent_audio``
WAVEFORM_POINTS = 1000        # target number of min/max pairs in waveform JSON
