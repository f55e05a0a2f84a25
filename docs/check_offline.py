"""Check that the built HTML site works without a network.

    python docs/check_offline.py docs/_build/html

Exits 1, listing them, if a page makes the browser load anything from another host
(``<script src>``, ``<link href>`` of a stylesheet, font, icon or preload, ``<img>``,
``<iframe>``, ``<source>``, ``<video>``, ``<audio>``, ``<embed>``, ``<object>``) or
refers to a local script or stylesheet that the build does not contain (e.g. MathJax
not copied). Plain links (``<a href="https://...">``) are fine: they are followed only
when clicked. ``docs/build.sh`` runs this after every build; ``tests/test_docs.py``
tests it. Standard library only, so it runs in any environment that built the docs.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: Attributes whose URL the browser fetches while loading the page, by tag.
LOADED = {
    "script": "src",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "video": "src",
    "audio": "src",
    "embed": "src",
    "track": "src",
    "object": "data",
}

#: ``<link rel=...>`` values that make the browser fetch ``href``.
LOADED_LINK_RELS = {"stylesheet", "icon", "preload", "modulepreload", "manifest"}


class _Loads(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []  # (tag, url)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link":
            rels = set((attrs.get("rel") or "").lower().split())
            if rels & LOADED_LINK_RELS and attrs.get("href"):
                self.urls.append((tag, attrs["href"]))
        elif tag in LOADED and attrs.get(LOADED[tag]):
            self.urls.append((tag, attrs[LOADED[tag]]))

    handle_startendtag = handle_starttag


def loaded_urls(html):
    """``(tag, url)`` of everything a page makes the browser fetch on load."""
    parser = _Loads()
    parser.feed(html)
    parser.close()
    return parser.urls


def pages(root):
    """The HTML pages of a built site (not the theme's assets under ``_static``)."""
    root = Path(root)
    return [
        page
        for page in sorted(root.rglob("*.html"))
        if page.relative_to(root).parts[0] != "_static"
    ]


def problems(root):
    """Every external load and missing local script/stylesheet of the site's pages."""
    root = Path(root)
    found = []
    for page in pages(root):
        for tag, url in loaded_urls(page.read_text(encoding="utf-8")):
            parts = urlsplit(url)
            where = page.relative_to(root)
            if parts.scheme in ("http", "https") or url.startswith("//"):
                found.append(f"{where}: <{tag}> loads {url} from the network")
            elif not parts.scheme and tag in ("script", "link") and parts.path:
                target = (page.parent / unquote(parts.path)).resolve()
                if not target.is_file():
                    found.append(f"{where}: <{tag}> refers to missing {url}")
    return found


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: python docs/check_offline.py HTML_DIR", file=sys.stderr)
        return 2
    n_pages = len(pages(args[0]))
    found = problems(args[0])
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(f"{len(found)} network loads or missing files in the built site.")
        return 1
    print(f"offline check: {n_pages} pages load nothing from the network.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
