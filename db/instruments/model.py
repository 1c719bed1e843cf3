"""The shapes instruments are described in (INSTRUMENTS.md), and the few helpers
that read them. Pure data: no Qt, no SQL, no I/O."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Mapping, Union

Number = Union[int, float, Decimal]
ScoreValue = Union[int, float, str, None]

# "decimal": a measurement (Item.decimals places allowed); "integer": a whole
# number on a scale (min..max); "choice": one of Item.options (int or str codes).
Kind = Literal["decimal", "integer", "choice"]


def dec(value: Number | str) -> Decimal:
    """Exact decimal of a number as people wrote it.

    Floats go through repr() (the shortest text that round-trips), so 72.3 is
    Decimal("72.3"), not 72.2999999999999971578290569595992565155029296875:
    thresholds such as "exactly 5%" or "BMI 23.0" then compare as written.
    """
    if isinstance(value, bool):  # bool is an int: never a measurement
        raise TypeError("a yes/no value is not a number")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


@dataclass(frozen=True)
class Item:
    key: str                    # answer key = import column name, e.g. "swemwbs_3"
    label: str                  # short wording, used in tables and messages
    kind: Kind
    min: Number | None = None
    max: Number | None = None
    options: tuple[tuple[int | str, str], ...] = ()   # (value, label), in form order
    required_for_score: bool = True   # a blank makes the main score not computable
    decimals: int = 0           # decimal places allowed (decimal kind only)
    ref: str = ""               # "SWEMWBS item 3": how a numbered item is named
    question: str = ""          # full wording on the form when longer than label
    hint: str = ""              # e.g. "0 = not at all, 10 = completely"

    @property
    def name(self) -> str:
        """The item in plain English, for messages: 'SWEMWBS item 3 (I've been feeling relaxed)'."""
        return f"{self.ref} ({self.label})" if self.ref else self.label

    @property
    def text(self) -> str:
        return self.question or self.label


@dataclass(frozen=True)
class Score:
    key: str                    # e.g. "swemwbs_metric"; unique across instruments
    label: str
    unit: str                   # "" when unitless
    better: Literal["up", "down"] | None   # None: no direction (codes, height)
    decimals: int               # places shown; stored values stay unrounded


@dataclass(frozen=True)
class Band:
    """One band of a scale: holds values below `below` (or up to and including
    it when `inclusive`). The last band of a scale has below=None (no limit).
    Bands are listed from the lowest up, so the first that fits is the band."""
    code: str
    label: str
    below: Decimal | None = None
    inclusive: bool = False


def band_of(value: Number, scale: tuple[Band, ...]) -> Band:
    v = dec(value)
    for band in scale:
        if band.below is None or v < band.below or (band.inclusive and v == band.below):
            return band
    raise ValueError("a band scale must end with an open band")  # data error


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    items: tuple[Item, ...]
    default_on: bool
    copyright_line: str | None
    main_score: str | None      # None: no single main score (ONS4: four answers)
    scores: tuple[Score, ...]
    instructions: str = ""      # the stem printed above the items

    def item(self, key: str) -> Item:
        for it in self.items:
            if it.key == key:
                return it
        raise KeyError(key)

    @property
    def item_keys(self) -> tuple[str, ...]:
        return tuple(it.key for it in self.items)


@dataclass(frozen=True)
class ScoringContext:
    """What scoring needs to know about the client, beyond the answers."""
    sex: str | None = None          # gender identity code: "1" male, "2" female, others
    ethnicity: str | None = None    # NHS ethnic category code
    asian_thresholds_override: bool = False   # the trainer marks an "S" client for the lower BMI thresholds
    carried_height_cm: Number | None = None   # latest earlier height, when not re-measured


@dataclass(frozen=True)
class Scored:
    scores: Mapping[str, ScoreValue]   # every score key of the instrument; None = absent
    bands: Mapping[str, str]           # band codes (see band_label); only those that apply
    computable: bool                   # the main score exists: the assessment is a "result"
    reason: str | None = None          # why not computable, for people
    flags: tuple[str, ...] = ()        # prompts the form must raise: "safeguarding", "auditc_positive"…
    notes: tuple[str, ...] = ()        # plain-English remarks (height carried, no waist band…)
