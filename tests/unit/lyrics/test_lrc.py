"""LRC parsing: time tags, offsets, repeated lines, limits and what is refused."""

from __future__ import annotations

import pytest

from melody.lyrics.lrc import MAX_LINES, MAX_LRC_BYTES, LrcError, LrcLine, format_lrc, parse_lrc


def test_lines_are_timed_sorted_and_word_tags_dropped():
    doc = parse_lrc(
        "\ufeff[ar:Arijit Singh]\n[ti:Tum Hi Ho]\n[length: 04:22]\n\n"
        "[00:12.50]first line\n[00:05]earlier <00:05.50>word <00:06.00>tags\n[01:02.345] third\n"
    )
    assert doc.lines == [
        LrcLine(5.0, "earlier word tags"),
        LrcLine(12.5, "first line"),
        LrcLine(62.345, "third"),
    ]
    assert doc.tags == {"ar": "Arijit Singh", "ti": "Tum Hi Ho", "length": "04:22"}


def test_a_line_with_several_times_repeats_and_fractions_of_any_width():
    doc = parse_lrc("[00:10.1][00:40.05][01:10:500]Chorus\n[00:20.00]Verse")
    assert [(line.t, line.text) for line in doc.lines] == [
        (10.1, "Chorus"), (20.0, "Verse"), (40.05, "Chorus"), (70.5, "Chorus"),
    ]  # fmt: skip


def test_offset_shifts_every_line_sooner_and_never_below_zero():
    doc = parse_lrc("[offset:+500]\n[00:00.20]a\n[00:10.00]b")
    assert doc.offset_ms == 500
    assert [line.t for line in doc.lines] == [0.0, 9.5]
    later = parse_lrc("[offset:-250]\n[00:10.00]b")
    assert later.lines[0].t == 10.25


def test_native_scripts_are_kept_as_written_nfc():
    doc = parse_lrc("[00:01.00]तुम ही हो\n[00:02.00]கண்ணே கலைமானே")
    assert [line.text for line in doc.lines] == ["तुम ही हो", "கண்ணே கலைமானே"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("just words\nno times", "lrc_not_synced"),
        ("", "lrc_not_synced"),
        ("[ar:Someone]", "lrc_not_synced"),
        ("[00:61.00]sixty-one seconds", "invalid_lrc"),
        ("[999:00.00]too late", "invalid_lrc"),
        ("[00:01.00]bell\x07", "invalid_lrc"),
        ("[offset:soon]\n[00:01.00]x", "invalid_lrc"),
        ("[00:01.00]" + "x" * 501, "invalid_lrc"),
        ("[00:01.00]x\n" * (MAX_LINES + 1), "lrc_too_large"),
        ("[00:01.00]" + "अ" * (MAX_LRC_BYTES // 3 + 10), "lrc_too_large"),
    ],
)
def test_refused(text, code):
    with pytest.raises(LrcError) as info:
        parse_lrc(text)
    assert info.value.code == code


def test_refusals_name_the_line():
    with pytest.raises(LrcError) as info:
        parse_lrc("[00:01.00]ok\n[00:02.00]ok\n[00:75.00]bad")
    assert info.value.line == 3


def test_format_round_trips():
    lines = [LrcLine(5.0, "a"), LrcLine(62.34, "b")]
    assert format_lrc(lines) == "[00:05.00]a\n[01:02.34]b"
    assert parse_lrc(format_lrc(lines)).lines == lines
