"""The songs a post talks about: YouTube / Spotify / SoundCloud / Bandcamp links and embeds, and
"Artist – Title" patterns in its title, headings, list items and link texts.

Links are read from the parsed HTML (anchors, iframes, embeds) and from URLs written as text;
patterns only from short blocks (a paragraph of prose is not a song credit). Each mention's
listen URL is rebuilt from the provider's id, never copied from the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

__all__ = ["SongMention", "artist_title", "extract_songs", "music_link"]

_YT_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_SPOTIFY_ID = re.compile(r"^[A-Za-z0-9]{22}$")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$")
_TEXT_URL = re.compile(r"https?://[^\s<>\"')\]]+")

_PREFIX = re.compile(
    r"^\s*(?:premiere|exclusive|listen|watch|video|new music|new song|new single|stream|track of the day|"
    r"song of the day|song of the week|first listen|review|out now|"
    # editorial labels: "Interview – Part 2" and "Tour diary – Pune" are sections, not credits
    r"interview|tour diary|live report|gig guide|news|podcast|recap)\s*[:|–—-]\s*",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"\s+(?:–|—|-{1,2}|―)\s+")
_QUOTES = "\"'“”‘’«»「」"
_DECORATION = re.compile(
    r"\s*[\(\[](?:official|lyric|lyrics|audio|video|visualizer|visualiser|music video|full song|hd|4k)[^\)\]]*[\)\]]\s*$",
    re.IGNORECASE,
)
_TAIL = re.compile(r"\s+(?:\||//|•)\s+.*$")
_FEAT = re.compile(r"\s+(?:feat\.?|ft\.?|featuring)\s+.*$", re.IGNORECASE)
_SHARES = re.compile(
    r"^(?P<artist>[^\"“‘:]{2,60}?)\s+(?:shares|releases|drops|unveils|debuts|returns with|announces)\s+"
    r"(?:(?:the |a |an |her |his |their |its )?(?:new |latest |debut )?(?:single|song|track|video|anthem|ballad),?\s+)?"
    r"[\"“‘'](?P<title>[^\"”’']{1,100})[\"”’']",
    re.IGNORECASE,
)
# "“Title” by Artist" (premieres and reviews): a quoted title, then the artist to the end.
_BY = re.compile(r"^[\"“‘'](?P<title>[^\"”’']{1,100})[\"”’']\s+by\s+(?P<artist>[^,;:!?\"“”]{2,60})$", re.IGNORECASE)
_SENTENCE = re.compile(r"[.!?]\s|[.!?]$|\b(?:i|we|you|this|that|our|here|is|are|was|the best|review)\b", re.IGNORECASE)
MAX_BLOCK = 160  # characters: longer blocks are prose


@dataclass(frozen=True)
class SongMention:
    artist: str | None = None
    title: str | None = None
    provider: str | None = None  # youtube, spotify, soundcloud, bandcamp
    external_id: str | None = None
    url: str | None = None  # the canonical listen URL, rebuilt from the id

    @property
    def key(self) -> tuple[str, str]:
        if self.provider and self.external_id:
            return ("link", f"{self.provider}:{self.external_id}")
        return ("text", f"{_fold(self.artist)}|{_fold(self.title)}")


def _fold(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


def music_link(url: str) -> tuple[str, str, str] | None:
    """``(provider, id, listen URL)`` for a song link or embed, else None."""
    if url.startswith("spotify:track:"):
        track = url.rsplit(":", 1)[1]
        return ("spotify", track, f"https://open.spotify.com/track/{track}") if _SPOTIFY_ID.match(track) else None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https", ""):
        return None
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    path = [unquote(p) for p in parts.path.split("/") if p]
    query = parse_qs(parts.query)
    if host in ("youtube.com", "music.youtube.com", "youtube-nocookie.com"):
        video = None
        if path[:1] == ["watch"]:
            video = query.get("v", [""])[0]
        elif len(path) >= 2 and path[0] in ("embed", "shorts", "v", "live"):
            video = path[1]
        if video and _YT_ID.match(video):
            return "youtube", video, f"https://www.youtube.com/watch?v={video}"
        return None
    if host == "youtu.be":
        if path and _YT_ID.match(path[0]):
            return "youtube", path[0], f"https://www.youtube.com/watch?v={path[0]}"
        return None
    if host in ("open.spotify.com", "play.spotify.com"):
        rest = path[1:] if path and path[0].startswith("intl-") else path
        rest = rest[1:] if rest[:1] == ["embed"] else rest
        if len(rest) >= 2 and rest[0] == "track" and _SPOTIFY_ID.match(rest[1]):
            return "spotify", rest[1], f"https://open.spotify.com/track/{rest[1]}"
        return None
    if host == "w.soundcloud.com":
        inner = (query.get("url") or [""])[0]
        return music_link(inner) if "soundcloud.com" in inner and "w.soundcloud.com" not in inner else None
    if host in ("soundcloud.com", "on.soundcloud.com"):
        if (
            host == "soundcloud.com"
            and len(path) == 2
            and path[1] not in ("sets", "tracks", "likes", "albums", "reposts", "popular-tracks")
        ):
            if _SLUG.match(path[0]) and _SLUG.match(path[1]):
                ident = f"{path[0].lower()}/{path[1].lower()}"
                return "soundcloud", ident, f"https://soundcloud.com/{ident}"
        return None
    if host.endswith(".bandcamp.com") and len(path) == 2 and path[0] == "track" and _SLUG.match(path[1]):
        artist = host.removesuffix(".bandcamp.com")
        ident = f"{artist}/{path[1].lower()}"
        return "bandcamp", ident, f"https://{artist}.bandcamp.com/track/{path[1].lower()}"
    return None


def artist_title(text: str) -> tuple[str, str] | None:
    """("Artist", "Title") when ``text`` reads as a song credit, else None."""
    line = " ".join(text.split())
    if not line or len(line) > MAX_BLOCK:
        return None
    shares = _SHARES.match(line)
    if shares:
        return _clean_artist(shares.group("artist")), shares.group("title").strip()
    line = _PREFIX.sub("", line)
    by = _BY.match(line)
    if by:
        artist = _clean_artist(_DECORATION.sub("", by.group("artist")).rstrip("."))
        if artist and not _SENTENCE.search(artist) and len(artist.split()) <= 6:
            return artist, _clean_title(by.group("title"))
        return None
    pieces = _SEPARATOR.split(line, maxsplit=1)
    if len(pieces) != 2:
        return None
    artist, title = _clean_artist(pieces[0]), _clean_title(pieces[1])
    if not artist or not title or len(artist) > 60 or len(title) > 100:
        return None
    if len(artist.split()) > 6 or len(title.split()) > 12 or _SENTENCE.search(artist):
        return None
    first = artist[0]
    if first.isalpha() and first.isascii() and not first.isupper():
        return None  # "here's the new one - listen" is prose, not a credit
    return artist, title


def _clean_artist(text: str) -> str:
    return _FEAT.sub("", text.strip().strip(_QUOTES).strip()).strip(" ,:")


def _clean_title(text: str) -> str:
    title = _TAIL.sub("", text.strip())
    previous = None
    while previous != title:
        previous = title
        title = _DECORATION.sub("", title).strip()
    title = _FEAT.sub("", title) if not title.startswith(tuple(_QUOTES)) else title
    return title.strip().strip(_QUOTES).strip(" ,:")


_BLOCK_TAGS = "h1, h2, h3, h4, h5, h6, li, p, strong, b, figcaption, blockquote, dt, dd, td"


def extract_songs(title: str, html: str, base_url: str, *, limit: int = 20) -> list[SongMention]:
    """The songs a post names, links first (with the credit in or around their anchor when there is
    one), then credits without a link; each song once."""
    found: dict[tuple[str, str], SongMention] = {}
    credits: dict[tuple[str, str], SongMention] = {}

    def add_credit(text: str) -> None:
        pair = artist_title(text)
        if pair:
            mention = SongMention(artist=pair[0], title=pair[1])
            credits.setdefault(mention.key, mention)

    add_credit(title)
    tree = LexborHTMLParser(html or "<p></p>")
    for node in tree.css("a[href], iframe[src], embed[src]"):
        attribute = "href" if node.tag == "a" else "src"
        link = music_link(urljoin(base_url, node.attributes.get(attribute) or ""))
        if link is None:
            continue
        pair = _credit_near(node)
        mention = SongMention(pair[0] if pair else None, pair[1] if pair else None, *link)
        found.setdefault(mention.key, mention)
    for node in tree.css(_BLOCK_TAGS):
        if any(music_link(urljoin(base_url, a.attributes.get("href") or "")) for a in node.css("a[href]")):
            continue  # a block holding a song link was read with its link above
        add_credit(node.text(separator=" ", strip=True))
    root = tree.body or tree.root
    for raw in _TEXT_URL.findall(root.text(separator=" ") if root is not None else ""):
        link = music_link(raw.rstrip(".,;"))
        if link:
            mention = SongMention(None, None, *link)
            found.setdefault(mention.key, mention)
    links = list(found.values())
    linked_credits = {SongMention(m.artist, m.title).key for m in links if m.artist}
    # Links with no credit of their own take the credit when the post names exactly one song (the
    # same song on YouTube and Spotify, say).
    if len(credits) == 1 and links and not linked_credits:
        only = next(iter(credits.values()))
        links = [SongMention(only.artist, only.title, m.provider, m.external_id, m.url) if not m.artist else m for m in links]
        linked_credits = {only.key}
    unlinked = [m for k, m in credits.items() if k not in linked_credits]
    return (links + unlinked)[:limit]


def _credit_near(node: Any) -> tuple[str, str] | None:
    """The credit in a link's own text, else in its enclosing short block (list item, heading, caption)."""
    own = node.text(separator=" ", strip=True) if node.tag == "a" else ""
    pair = artist_title(own) if own else None
    if pair:
        return pair
    parent = node.parent
    for _ in range(3):
        if parent is None:
            break
        if parent.tag in ("li", "p", "h2", "h3", "h4", "figure", "figcaption", "dd", "td"):
            text = parent.text(separator=" ", strip=True)
            if own and text.endswith(own):
                text = text[: -len(own)]  # "Artist – Title <a>watch</a>": the credit is before the link
            return artist_title(text.strip(" :|([-–—"))
        parent = parent.parent
    return None
