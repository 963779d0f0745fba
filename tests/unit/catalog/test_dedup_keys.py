"""De-duplication keys of provider hits: spelling variants, decorations, duration tolerance, artists."""

from __future__ import annotations

from melody.catalog.keys import (
    DEDUP_DURATION_TOLERANCE_S,
    artists_match,
    dedup_key,
    dedup_keys,
    dedup_match,
    durations_match,
)


def test_spelling_variants_and_scripts_share_a_key():
    assert dedup_key("चाहूँ मैं या ना") == dedup_key("Chahun Main Ya Naa") == dedup_key("Chaahoon Main Yaa Naa")
    assert dedup_key("तुम ही हो") == dedup_key("Tum Hee Ho") == dedup_key("tum hi ho")
    assert dedup_key("Hum Safar") == dedup_key("Humsafar")
    # A native-script hit is looked up under both schwa renderings; the catalog stores the medial one.
    assert dedup_key("Dhadkan") == dedup_key("धड़कन") and dedup_key("Dhadkan") in dedup_keys("धड़कन")
    assert dedup_keys("Kesariya", "Kesariya") == [dedup_key("Kesariya")]


def test_decorations_do_not_change_the_key_but_versions_do():
    plain = dedup_key("Kesariya")
    for decorated in ('Kesariya (From "Brahmastra")', 'Kesariya - From "Brahmastra"', "Kesariya - Remastered 2022",
                      "Kesariya (feat. Pritam)", "Kesariya feat. Pritam", "Kesariya ft. Pritam", "Kesariya [Official Video]",
                      "Kesariya (Lyrical)", "Kesariya Full Song Video", "Kesariya (Official Music Video) [HD]"):
        assert dedup_key(decorated) == plain, decorated
    for version in ("Kesariya (Reprise)", "Kesariya (Female)", "Kesariya - Unplugged", "Kesariya (Remix)"):
        assert dedup_key(version) != plain, version
    assert dedup_key("Sun Raha Hai (Female)") == dedup_key("Sun Raha Hai - Female Version")
    assert dedup_key("(Intro)") == dedup_key("Intro")  # nothing but a bracket: keep it


def test_durations_match_within_the_tolerance_not_in_buckets():
    assert DEDUP_DURATION_TOLERANCE_S == 5
    assert durations_match(264, 266)  # a 10-second bucket put these in 26 and 27
    assert durations_match(260, 265) and not durations_match(260, 266)
    assert durations_match(None, 266) and durations_match(266, None)


def test_artists_match_across_order_scripts_and_spellings():
    assert artists_match(["Pritam", "Arijit Singh"], ["Arijit Singh"])
    assert artists_match(["अरिजीत सिंह"], ["Arijit Singh"])
    assert artists_match(["A. R. Rahman"], ["AR Rahman"])
    assert not artists_match(["Kishore Kumar"], ["Sanu Kumar"])
    assert not artists_match(["Arijit Singh"], [])


def test_dedup_match_needs_an_artist_and_close_durations():
    assert dedup_match(["Arijit Singh"], 264, ["Arijit Singh", "Palak Muchhal"], 266)
    assert dedup_match(["Arijit Singh"], None, ["Arijit Singh"], 304)  # Last.fm sends no duration
    assert not dedup_match(["Arijit Singh"], 264, ["Arijit Singh"], 280)
    assert not dedup_match(["Someone Else"], 264, ["Arijit Singh"], 264)
    # Without artists on a side, only two known, close durations make a match.
    assert dedup_match([], 264, ["Arijit Singh"], 266) and not dedup_match([], None, ["Arijit Singh"], 266)
