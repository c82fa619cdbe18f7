"""Read a feed from stdin with Python feedparser and print a JSON summary.

Used by test/helpers/feed-check.ts (readWithPythonFeedparser). Run it with
Debian's interpreter (/usr/bin/python3) and the python3-feedparser package.

Output shape (one JSON object on stdout):
  {
    "bozo": bool, "bozo_exception": str | null, "version": str,
    "title": str, "link": str | null, "updated": str | null,
    "items": [{"id", "title", "link", "content", "summary",
               "published", "updated", "categories": [str], "authors": [str]}]
  }
Dates are ISO 8601 UTC strings built from feedparser's *_parsed struct_time
values (feedparser drops sub-second precision).
"""

import calendar
import datetime
import json
import sys

try:
    import feedparser
except ImportError as exc:  # pragma: no cover - environment problem
    sys.stderr.write(
        "feedparser_read.py: cannot import feedparser (%s). "
        "Install it with: apt-get install -y python3-feedparser\n" % exc
    )
    sys.exit(3)


def iso(parsed):
    """struct_time (UTC, as feedparser returns it) -> ISO 8601 string."""
    if not parsed:
        return None
    stamp = calendar.timegm(parsed)
    when = datetime.datetime.fromtimestamp(stamp, tz=datetime.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def own(mapping, key):
    """Look a key up without FeedParserDict's compatibility fallbacks.

    feedparser 6 maps a missing `updated(_parsed)` to `published(_parsed)`
    (with a DeprecationWarning); we want what the feed actually said.
    """
    return dict.get(mapping, key)


def text(value):
    if value is None:
        return None
    return str(value)


def read_entry(entry):
    content = None
    contents = entry.get("content")
    if contents:
        content = contents[0].get("value")

    categories = []
    for tag in entry.get("tags") or []:
        term = tag.get("term")
        if term:
            categories.append(term)

    authors = []
    for author in entry.get("authors") or []:
        name = author.get("name")
        if name:
            authors.append(name)

    return {
        "id": text(entry.get("id")),
        "title": text(entry.get("title")),
        "link": text(entry.get("link")),
        "content": text(content),
        "summary": text(entry.get("summary")),
        "published": iso(entry.get("published_parsed")),
        "updated": iso(own(entry, "updated_parsed")),
        "categories": categories,
        "authors": authors,
    }


def main():
    # Pass bytes, never str: feedparser.parse(str) may treat the argument as a
    # URL or a file name.
    data = sys.stdin.buffer.read()
    result = feedparser.parse(data)
    feed = result.get("feed", {})
    exc = result.get("bozo_exception")
    out = {
        "bozo": bool(result.get("bozo")),
        "bozo_exception": None if exc is None else "%s: %s" % (type(exc).__name__, exc),
        "version": result.get("version") or "",
        "feedparser_version": feedparser.__version__,
        "title": text(feed.get("title")) or "",
        "link": text(feed.get("link")),
        "updated": iso(own(feed, "updated_parsed")),
        "items": [read_entry(e) for e in result.get("entries", [])],
    }
    json.dump(out, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
