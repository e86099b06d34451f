#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""The query sidecar of a folder (or file) of images.

Two formats, chosen by the file suffix (``docs/io.md``):

- ``.jsonl``: JSON Lines, one object per line, ``{"image": "<file name>", "query": "..."}``;
  blank lines are skipped; each image named at most once. Images without a line get
  the empty query.
- anything else: plain UTF-8 text, one query per line, applied to the images in their
  sorted order (line i → image i); there must be exactly one line per image. A blank
  line is the empty query.
"""

import json
import pathlib

JSONL_SUFFIX = ".jsonl"


def parse_jsonl_queries(text, source="<sidecar>"):
    """Map image file name → query from JSON Lines text.

    Args:
        text: the sidecar's content.
        source: the file name used in error messages.

    Raises:
        ValueError: naming ``source`` and the 1-based line number, for a line that is not
            JSON, not an object, lacks a non-empty string "image" or a string "query",
            has other keys, or names an image a second time.
    """
    queries = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{where}: not valid JSON ({err.msg})") from err
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected a JSON object, got {type(entry).__name__}")
        extra = set(entry) - {"image", "query"}
        if extra:
            raise ValueError(f"{where}: unknown keys {sorted(extra)} (only 'image' and 'query')")
        image, query = entry.get("image"), entry.get("query")
        if not isinstance(image, str) or not image:
            raise ValueError(f"{where}: 'image' must be a non-empty string, got {image!r}")
        if not isinstance(query, str):
            raise ValueError(f"{where}: 'query' must be a string, got {query!r}")
        if image in queries:
            raise ValueError(f"{where}: image {image!r} already has a query")
        queries[image] = query
    return queries


def parse_text_queries(text):
    """One query per line (the line break removed, nothing else)."""
    return text.splitlines()


def read_sidecar(path):
    """Parse a sidecar file: a dict (``.jsonl``) or a list of queries (plain text).

    Raises:
        ValueError: unreadable or non-UTF-8 file, or a bad JSON line (file and line named).
    """
    path = pathlib.Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read query sidecar {path}: {err}") from err
    if path.suffix.lower() == JSONL_SUFFIX:
        return parse_jsonl_queries(text, source=str(path))
    return parse_text_queries(text)


def assign_queries(file_names, sidecar, source="<sidecar>"):
    """The query of each image file, in the order of ``file_names``.

    Args:
        file_names: the images' file names (no directory), in emission order.
        sidecar: what :func:`read_sidecar` returned.
        source: the sidecar's name for error messages.

    Raises:
        ValueError: a JSONL entry names no listed image (a typo would otherwise silently
            send images without their query), or a text sidecar's line count differs from
            the number of images.
    """
    if isinstance(sidecar, dict):
        unknown = sorted(set(sidecar) - set(file_names))
        if unknown:
            raise ValueError(f"{source}: queries for images that are not in the source: {unknown[:5]}")
        return [sidecar.get(name, "") for name in file_names]
    if len(sidecar) != len(file_names):
        raise ValueError(f"{source}: {len(sidecar)} query lines for {len(file_names)} images "
                         "(a text sidecar needs exactly one line per image, in sorted order)")
    return list(sidecar)
