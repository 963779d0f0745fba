"""Documents the crawler fetches → posts: RSS/Atom (feedparser), JSON Feed (pydantic, by hand) and
HTML pages (selectolax's lexbor HTML5 parser): feed links to follow, or WordPress / Blogger posts.

Nothing here touches the network (feedparser is given bytes, never a URL).
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from pydantic import BaseModel, ConfigDict, ValidationError

from melody.discover.urls import is_http_url

__all__ = ["FeedItem", "ParseError", "ParsedDocument", "parse_document"]

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
)


class ParseError(ValueError):
    """Nothing usable in the document (malformed, or neither a feed nor a page with posts)."""


@dataclass
class FeedItem:
    url: str
    title: str
    html: str  # the item's content as served (HTML or text); sanitised before storage
    guid: str | None = None
    published: dt.datetime | None = None


@dataclass
class ParsedDocument:
    kind: str  # "feed" or "html"
    title: str | None = None
    language: str | None = None
    items: list[FeedItem] = field(default_factory=list)
    feed_links: list[str] = field(default_factory=list)


def parse_document(body: bytes, content_type: str, base_url: str) -> ParsedDocument:
    kind = _sniff(body, content_type)
    if kind == "json":
        return _json_feed(body, base_url)
    if kind == "html":
        return _html_page(body, base_url)
    return _xml_feed(body, base_url)


def _sniff(body: bytes, content_type: str) -> str:
    ctype = content_type.split(";", 1)[0].strip().lower()
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if "json" in ctype or head.startswith(b"{"):
        return "json"
    if ctype in ("text/html", "application/xhtml+xml") or head.startswith((b"<!doctype html", b"<html")):
        return "html"
    return "xml"


# -- JSON Feed (https://jsonfeed.org/version/1.1) -------------------------------------------------


class _JsonItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | int | None = None
    url: str | None = None
    external_url: str | None = None
    title: str | None = None
    content_html: str | None = None
    content_text: str | None = None
    summary: str | None = None
    date_published: str | None = None
    date_modified: str | None = None


class _JsonFeed(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: str
    title: str | None = None
    language: str | None = None
    items: list[_JsonItem] = []


def _json_feed(body: bytes, base_url: str) -> ParsedDocument:
    try:
        feed = _JsonFeed.model_validate(json.loads(body.decode("utf-8", "replace")))
    except (ValueError, ValidationError) as exc:
        raise ParseError("not a JSON Feed") from exc
    if "jsonfeed.org" not in feed.version:
        raise ParseError("not a JSON Feed")
    items = []
    for item in feed.items:
        url = urljoin(base_url, item.url or item.external_url or "")
        if not is_http_url(url):
            continue
        items.append(
            FeedItem(
                url=url,
                title=item.title or "",
                html=item.content_html or item.content_text or item.summary or "",
                guid=str(item.id) if item.id is not None else None,
                published=_iso(item.date_published or item.date_modified),
            )
        )
    return ParsedDocument("feed", title=feed.title, language=feed.language, items=items)


def _iso(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# -- RSS / Atom (feedparser) ----------------------------------------------------------------------


def _xml_feed(body: bytes, base_url: str) -> ParsedDocument:
    import feedparser  # type: ignore[import-untyped]

    # A stream, never a string: feedparser fetches a string that looks like a URL. Its sanitiser
    # is off because it drops the embeds (iframes) songs are found in; no HTML is ever stored
    # (melody.discover.sanitise keeps text only).
    parsed: Any = feedparser.parse(io.BytesIO(body), response_headers={"content-location": base_url}, sanitize_html=False)
    entries = parsed.get("entries") or []
    if not entries and (parsed.get("bozo") or not parsed.get("feed")):
        raise ParseError("malformed feed")
    items = []
    for entry in entries:
        url = urljoin(base_url, entry.get("link") or "")
        if not is_http_url(url):
            continue
        content = entry.get("content") or []
        html = content[0].get("value", "") if content else entry.get("summary", "")
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        items.append(
            FeedItem(
                url=url,
                title=entry.get("title", ""),
                html=html or "",
                guid=entry.get("id") or None,
                published=dt.datetime.fromtimestamp(calendar.timegm(when), dt.UTC) if when else None,
            )
        )
    feed = parsed.get("feed") or {}
    return ParsedDocument("feed", title=feed.get("title"), language=feed.get("language"), items=items)


# -- HTML pages -----------------------------------------------------------------------------------

_POST_NODES = "article, div.post, div.hentry, div.post-outer"
_TITLE = ".entry-title, .post-title, h1, h2, h3"
_BODY = ".entry-content, .post-body, .entry-summary, .post-content, .post-excerpt"
_FEED_LINK_TYPES = {"application/rss+xml", "application/atom+xml", "application/feed+json", "application/json"}


def _html_page(body: bytes, base_url: str) -> ParsedDocument:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(body.decode("utf-8", "replace"))
    links = []
    for link in tree.css("link[rel][href]"):
        rel = (link.attributes.get("rel") or "").lower().split()
        ctype = (link.attributes.get("type") or "").split(";")[0].strip().lower()
        if "alternate" in rel and ctype in _FEED_LINK_TYPES:
            href = urljoin(base_url, link.attributes.get("href") or "")
            if is_http_url(href) and href not in links:
                links.append(href)
    html_node = tree.css_first("html")
    language = (html_node.attributes.get("lang") if html_node is not None else None) or None
    title_node = tree.css_first("title")
    items = []
    seen: set[str] = set()
    for node in tree.css(_POST_NODES):
        if any(parent in _post_ancestors(node) for parent in ("article", "post")):
            continue  # nested inside another post node: the outer one is the post
        item = _html_post(node, base_url)
        if item is not None and item.url not in seen:
            seen.add(item.url)
            items.append(item)
    if not links and not items:
        raise ParseError("a page with neither a feed link nor posts")
    return ParsedDocument(
        "html", title=title_node.text(strip=True) if title_node is not None else None, language=language, items=items, feed_links=links
    )


def _post_ancestors(node: Any) -> set[str]:
    found = set()
    parent = node.parent
    while parent is not None:
        if parent.tag == "article":
            found.add("article")
        classes = (parent.attributes.get("class") or "").split() if parent.tag not in ("-document", "#document") else []
        if parent.tag == "div" and ({"post", "hentry", "post-outer"} & set(classes)):
            found.add("post")
        parent = parent.parent
    return found


def _html_post(node: Any, base_url: str) -> FeedItem | None:
    title_node = node.css_first(_TITLE)
    if title_node is None:
        return None
    anchor = title_node.css_first("a[href]") or node.css_first("a[rel~=bookmark][href]")
    if anchor is None:
        return None
    url = urljoin(base_url, anchor.attributes.get("href") or "")
    if not is_http_url(url):
        return None
    body = node.css_first(_BODY)
    return FeedItem(
        url=url,
        title=title_node.text(separator=" ", strip=True),
        html=(body or node).html or "",
        guid=None,
        published=_html_date(node),
    )


def _html_date(node: Any) -> dt.datetime | None:
    for selector, attribute in (
        ("time[datetime]", "datetime"),
        ("abbr.published[title]", "title"),
        (".published[title]", "title"),
        ("[itemprop=datePublished][content]", "content"),
        ("[itemprop=datePublished][datetime]", "datetime"),
    ):
        found = node.css_first(selector)
        if found is not None:
            when = _iso(found.attributes.get(attribute))
            if when is not None:
                return when
    return None
