"""Names of the offline world: shape families, colours, sizes and the answer vocabulary.

Everything else in :mod:`uoisc_train.world` derives from these tuples, so a
name is spelled in exactly one place. See ``docs/offline-world.md``.
"""

from __future__ import annotations

#: Bump whenever the generator's output bytes change for a given (seed, size, split).
GENERATOR_VERSION = "1"

#: Shape family -> its shapes. Every shape name is unique across families.
FAMILIES: dict[str, tuple[str, ...]] = {
    "geometric": ("circle", "square", "triangle"),
    "symbols": ("star", "cross", "ring"),
    "animals": ("fish", "cat", "bird"),
}

#: The zero-shot family (the paper's animals): never in ``train``/``test_seen`` images.
HELD_OUT_FAMILY = "animals"

#: Every shape, family by family.
SHAPES: tuple[str, ...] = tuple(s for shapes in FAMILIES.values() for s in shapes)

#: Shape -> family.
SHAPE_FAMILY: dict[str, str] = {s: f for f, shapes in FAMILIES.items() for s in shapes}

#: Plural used in "How many ... are there?" questions.
PLURALS: dict[str, str] = {s: s + "s" for s in SHAPES} | {"cross": "crosses", "fish": "fish"}

#: Colour name -> the exact RGB every object of that colour is filled with.
#: Saturated hues, far from the low-saturation background tones.
COLOUR_RGB: dict[str, tuple[int, int, int]] = {
    "red": (215, 35, 35),
    "orange": (240, 130, 20),
    "yellow": (240, 215, 30),
    "green": (40, 170, 60),
    "cyan": (30, 190, 200),
    "blue": (40, 70, 210),
    "purple": (130, 50, 190),
    "pink": (240, 120, 180),
}
COLOURS: tuple[str, ...] = tuple(COLOUR_RGB)

#: Size classes; the radius ranges are in :mod:`uoisc_train.world.layout`.
SIZES: tuple[str, ...] = ("small", "large")

#: Answers of "Where is the X?" (dominant axis of the centre's offset, see ``vqa``).
POSITIONS: tuple[str, ...] = ("left", "right", "top", "bottom")

#: Answers of "How many X are there?": a scene holds at most four of one shape.
COUNTS: tuple[str, ...] = ("0", "1", "2", "3", "4")

#: Question kinds, in the order each scene lists its questions.
QUESTION_KINDS: tuple[str, ...] = ("colour", "exists", "count", "position", "size")

#: The closed answer vocabulary of every VQA triple.
ANSWERS: tuple[str, ...] = ("no", "yes") + COLOURS + COUNTS + POSITIONS + SIZES

_ANSWER_INDEX = {answer: i for i, answer in enumerate(ANSWERS)}
assert len(_ANSWER_INDEX) == len(ANSWERS), "answer vocabulary has duplicates"
assert len(SHAPE_FAMILY) == len(SHAPES), "a shape name appears in two families"


def answer_index(answer: str) -> int:
    """Index of ``answer`` in :data:`ANSWERS`.

    Raises:
        ValueError: ``answer`` is not in the vocabulary.
    """
    try:
        return _ANSWER_INDEX[answer]
    except KeyError:
        raise ValueError(f"answer {answer!r} is not in the answer vocabulary {ANSWERS}") from None
