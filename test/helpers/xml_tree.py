"""Read an XML document from stdin and print it as a namespace-resolved JSON tree.

Used by test/helpers/podcast-check.ts, so that the podcast rules look elements up by their
namespace URI (as Apple and the Podcast Index do), not by whatever prefix the feed chose. An
unbound prefix or a malformed document makes ElementTree raise: exit status 2 with the message.

Output: {"tree": node, "uuid5": {name: uuid}} where node is
  {"tag": "{uri}local" or "local", "attrs": {name: value}, "text": str, "children": [node]}
and "uuid5" maps each name given as an argument to uuid.uuid5(podcast namespace, name): Python's
own implementation, independent of the one under test.

Run with Debian's /usr/bin/python3 -I.
"""

import json
import sys
import uuid
import xml.etree.ElementTree as ET

PODCAST_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


def node(element):
    return {
        "tag": element.tag,
        "attrs": dict(element.attrib),
        "text": element.text or "",
        "children": [node(child) for child in element],
    }


def main():
    data = sys.stdin.buffer.read()
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        sys.stderr.write("xml_tree.py: %s\n" % error)
        sys.exit(2)
    out = {
        "tree": node(root),
        "uuid5": {name: str(uuid.uuid5(PODCAST_NAMESPACE, name)) for name in sys.argv[1:]},
    }
    json.dump(out, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
