"""How well a generated caption describes the scene: exact match and per-attribute accuracy.

Both the reference caption and the generated one are parsed with the caption
template of :func:`uoisc_train.world.scenes.make_caption` ("a {size} {colour}
{shape} {position}", joined by ", " and " and ", then ", on a {background}
background."). Attributes are compared as multisets, not slot by slot: the
generator lists objects in drawing order, which the image does not show (except
through occlusion), so a caption naming the right objects in another order must
not be scored wrong. Per attribute, accuracy = size of the multiset intersection /
``max(reference objects, generated objects)``: a missing or extra object costs
one slot of every attribute. ``object`` scores whole (size, colour, shape) triples
the same way.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ATTRIBUTES", "CaptionObject", "ParsedCaption", "parse_caption", "caption_scores",
           "caption_metrics"]

#: Attributes of one object in a caption.
ATTRIBUTES = ("size", "colour", "shape", "position")

_OBJECT = re.compile(r"^an? (\w+) (\w+) (\w+) ((?:on|at|in) the [a-z ]+)$")
_BACKGROUND = re.compile(r", on an? (\w+) background\.?$")


@dataclass(frozen=True)
class CaptionObject:
    size: str
    colour: str
    shape: str
    position: str


@dataclass(frozen=True)
class ParsedCaption:
    """Objects in caption order, the background word, and phrases that did not parse."""

    objects: tuple[CaptionObject, ...]
    background: str | None
    unparsed: int


def parse_caption(caption: str) -> ParsedCaption:
    """Split a caption into objects and background (tolerant: bad phrases are counted, not raised)."""
    text = caption.strip().lower()
    match = _BACKGROUND.search(text)
    background = match.group(1) if match else None
    body = text[:match.start()] if match else text.rstrip(".")
    objects, unparsed = [], 0
    for phrase in re.split(r", | and ", body):
        found = _OBJECT.match(phrase.strip())
        if found:
            objects.append(CaptionObject(*found.groups()))
        elif phrase.strip():
            unparsed += 1
    return ParsedCaption(tuple(objects), background, unparsed)


def caption_scores(reference: str, generated: str) -> dict[str, float]:
    """Scores of one generated caption against its reference.

    Returns:
        ``exact`` (1.0 when the strings are equal), one accuracy per entry of
        :data:`ATTRIBUTES` and ``object`` (order-free, see the module docstring),
        ``count`` (same number of objects), ``background``.
    """
    truth, guess = parse_caption(reference), parse_caption(generated)
    slots = max(len(truth.objects), len(guess.objects), 1)

    def overlap(key) -> float:
        common = Counter(map(key, truth.objects)) & Counter(map(key, guess.objects))
        return sum(common.values()) / slots

    scores = {"exact": float(reference.strip() == generated.strip()),
              "count": float(len(truth.objects) == len(guess.objects)),
              "background": float(truth.background is not None and truth.background == guess.background)}
    for attribute in ATTRIBUTES:
        scores[attribute] = overlap(lambda o: getattr(o, attribute))
    scores["object"] = overlap(lambda o: (o.size, o.colour, o.shape))
    return scores


def caption_metrics(references: Sequence[str], generated: Sequence[str]) -> dict[str, float]:
    """Mean of :func:`caption_scores` over caption pairs (same keys), plus ``n``."""
    if len(references) != len(generated) or not references:
        raise ValueError(f"need equally many references and captions, got {len(references)} "
                         f"and {len(generated)}")
    rows = [caption_scores(r, g) for r, g in zip(references, generated)]
    metrics = {key: sum(row[key] for row in rows) / len(rows) for key in rows[0]}
    metrics["n"] = len(rows)
    return metrics
