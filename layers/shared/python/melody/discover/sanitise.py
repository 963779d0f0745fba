"""Post text as plain text: every tag, script, style and comment dropped; whitespace folded.

The feed stores a short summary and the link, never the post's markup: nothing a blog serves can
reach the PWA as HTML (which renders it with ``textContent`` anyway).
"""

from __future__ import annotations

import unicodedata

from selectolax.lexbor import LexborHTMLParser as HTMLParser

__all__ = ["plain_text", "shorten"]

_DROP = "script, style, noscript, template, iframe, object, embed, svg, math, head, form"
_BLOCKS = "p, div, li, br, h1, h2, h3, h4, h5, h6, blockquote, tr, figure, figcaption, section, article"


def plain_text(markup: str) -> str:
    """The visible text of ``markup`` (HTML or text), one line per block, control characters removed."""
    if "<" not in markup and "&" not in markup:
        return _clean(markup)
    tree = HTMLParser(markup)
    for node in tree.css(_DROP):
        node.decompose()
    for node in tree.css(_BLOCKS):
        node.insert_after("\n")
    root = tree.body or tree.root
    text = root.text(separator="", deep=True) if root is not None else ""
    return _clean(text)


def _clean(text: str) -> str:
    kept = "".join(c if c == "\n" or unicodedata.category(c)[0] != "C" else " " for c in unicodedata.normalize("NFC", text))
    lines = (" ".join(line.split()) for line in kept.splitlines())
    return "\n".join(line for line in lines if line)


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters (… when cut)."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:-–—") + "…"
