"""Pure logic of Discover: song credits and links, canonical URLs, the SSRF guard, plain text."""

from __future__ import annotations

import pytest

from melody.discover.extract import artist_title, extract_songs, music_link
from melody.discover.sanitise import plain_text, shorten
from melody.discover.urls import UnsafeUrl, canonical_url, check_fetchable


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Premiere: Prateek Kuhad – Kasoor (Official Video)", ("Prateek Kuhad", "Kasoor")),
        ("Arijit Singh - Tum Hi Ho", ("Arijit Singh", "Tum Hi Ho")),
        ("The Local Train — Aaoge Tum Kabhi | EP review", ("The Local Train", "Aaoge Tum Kabhi")),
        ('Lorde shares new single "Solar Power"', ("Lorde", "Solar Power")),
        ("अरिजीत सिंह – तुम ही हो", ("अरिजीत सिंह", "तुम ही हो")),
        ("here is the thing - really", None),
        ("A long sentence. With - stuff", None),
        ("Our picks this week", None),
    ],
)
def test_artist_title(text, expected):
    assert artist_title(text) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://youtu.be/dQw4w9WgXcQ?t=3", ("youtube", "dQw4w9WgXcQ")),
        ("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", ("youtube", "dQw4w9WgXcQ")),
        ("https://m.youtube.com/watch?v=dQw4w9WgXcQ&list=x", ("youtube", "dQw4w9WgXcQ")),
        ("https://open.spotify.com/intl-de/track/4uLU6hMCjMI75M1A2tKUQC?si=x", ("spotify", "4uLU6hMCjMI75M1A2tKUQC")),
        ("https://open.spotify.com/album/4uLU6hMCjMI75M1A2tKUQC", None),
        ("https://w.soundcloud.com/player/?url=https%3A//soundcloud.com/artist-x/song-y", ("soundcloud", "artist-x/song-y")),
        ("https://soundcloud.com/artist-x/sets/album", None),
        ("https://foo.bandcamp.com/track/bar-baz", ("bandcamp", "foo/bar-baz")),
        ("javascript:alert(1)", None),
        ("https://youtube.com/watch?v=short", None),
    ],
)
def test_music_link(url, expected):
    found = music_link(url)
    assert (found[:2] if found else None) == expected


def test_extract_songs_pairs_links_with_their_credits_and_keeps_unlinked_credits():
    html = """<p>Great stuff</p><ul>
      <li>Arijit Singh – Tum Hi Ho <a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">watch</a></li>
      <li><a href="https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC">Lucky Ali – O Sanam</a></li></ul>
      <iframe src="https://www.youtube.com/embed/abcdefghijk"></iframe><h3>Nucleya – Bass Rani</h3>"""
    songs = [(m.artist, m.title, m.provider) for m in extract_songs("Weekly picks", html, "https://blog.example/")]
    assert songs == [
        ("Arijit Singh", "Tum Hi Ho", "youtube"),
        ("Lucky Ali", "O Sanam", "spotify"),
        (None, None, "youtube"),
        ("Nucleya", "Bass Rani", None),
    ]


def test_a_single_credit_names_the_posts_links():
    songs = extract_songs("Prateek Kuhad – Kasoor", '<iframe src="https://youtu.be/abcdefghijk"></iframe>', "https://b.example/")
    assert [(m.artist, m.title, m.url) for m in songs] == [("Prateek Kuhad", "Kasoor", "https://www.youtube.com/watch?v=abcdefghijk")]


def test_canonical_url_drops_tracking_fragment_and_default_port():
    assert canonical_url("HTTP://Blog.Example:80/a?utm_source=x&b=2&fbclid=1&a=1#top") == "http://blog.example/a?a=1&b=2"


@pytest.mark.parametrize(
    ("url", "addresses", "loopback_ok"),
    [
        ("http://127.0.0.1/feed", ["127.0.0.1"], False),
        ("http://metadata/", ["169.254.169.254"], True),
        ("http://internal/", ["10.0.0.5"], True),
        ("http://v6/", ["::ffff:192.168.1.1"], True),
        ("file:///etc/passwd", ["8.8.8.8"], True),
        ("ftp://example.com/x", ["8.8.8.8"], True),
        ("http://user:pw@example.com/", ["8.8.8.8"], True),
    ],
)
def test_ssrf_guard_refuses_private_targets(url, addresses, loopback_ok):
    with pytest.raises(UnsafeUrl):
        check_fetchable(url, allow_loopback=loopback_ok, resolver=lambda host, port: addresses)


def test_ssrf_guard_admits_public_and_allowed_loopback():
    check_fetchable("https://example.com/feed", resolver=lambda host, port: ["93.184.215.14"])
    check_fetchable("http://127.0.0.1:8123/feed", allow_loopback=True, resolver=lambda host, port: ["127.0.0.1"])


def test_plain_text_drops_markup_and_scripts():
    assert plain_text('<p onclick="x()">Hi <b>there</b></p><script>alert(1)</script><li>A &ndash; B</li>') == "Hi there\nA – B"
    assert shorten("a b c d e f g h i j k l m n o p", 10) == "a b c d…"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Premiere: “Monsoon Letters” by Nila Rao", ("Nila Rao", "Monsoon Letters")),
        ('"Paper Boats" by Kavi Ray', ("Kavi Ray", "Paper Boats")),
        ("“Safarnama” by Lucky Ali (Official Video)", ("Lucky Ali", "Safarnama")),  # decoration dropped
        ("“Why we still record to tape” by our editor, who was there.", None),
        ("Interview – Part 2", None),
        ("Tour diary – Pune", None),
        ("News: Arijit Singh – Tum Hi Ho", ("Arijit Singh", "Tum Hi Ho")),
    ],
)
def test_quoted_title_by_artist_and_editorial_labels(text, expected):
    assert artist_title(text) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://\udb90\udf12N\u00a3}\u00ba,\u00bd\u0000\u00bb)",  # NUL and an unpaired surrogate: was a 500 (contract fuzzing)
        "http://exa\u0000mple.com/feed",
        "https://example.com:99999/feed",
        "https://",
        "ftp://example.com/feed",
        "http://" + "a" * 70 + ".com/",  # a label IDNA cannot encode (over 63 characters)
    ],
)
def test_urls_a_source_cannot_have_are_refused_not_crashed_on(url):
    from melody.discover.urls import is_http_url

    assert is_http_url(url) is False


def test_real_source_urls_are_accepted():
    from melody.discover.urls import is_http_url

    assert is_http_url("https://www.example.com/feed?x=1")
    assert is_http_url("http://संगीत.भारत/rss")  # an internationalised domain
