"""Code lists of DATA.md: stored codes, the labels people see, reporting groups.

The lists ship as data in resources/codes/codes.json and are copied into the
database by the first migration, so a service can later extend them.
"""
from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache

import resources


@lru_cache(maxsize=1)
def _data() -> dict:
    with open(resources.path("codes", "codes.json"), encoding="utf-8") as f:
        return json.load(f)


def lists() -> dict[str, list[tuple[str, str]]]:
    return {name: [tuple(item) for item in items] for name, items in _data()["lists"].items()}


def codes(list_name: str) -> list[str]:
    return [c for c, _ in _data()["lists"][list_name]]


def label(list_name: str, code: str | None) -> str:
    if code is None or code == "":
        return ""
    for c, lab in _data()["lists"][list_name]:
        if c == code:
            return lab
    return str(code)


def group_order(group: str) -> list[str]:
    return list(_data()["groups"][group]["order"])


def group_of(group: str, code: str | None) -> str | None:
    for name, members in _data()["groups"][group]["members"].items():
        if code in members:
            return name
    return None


def group_members(group: str, name: str) -> list[str]:
    return list(_data()["groups"][group]["members"][name])


_DASHES = re.compile(r"[\u2010-\u2015\u2212-]")
_SPACES = re.compile(r"\s+")


def _fold(text: str) -> str:
    # Spreadsheet text arrives with any kind of dash and stray spaces.
    text = unicodedata.normalize("NFKC", str(text)).strip().casefold()
    text = _DASHES.sub("-", text)
    text = _SPACES.sub(" ", text)
    return text.replace(" - ", "-").replace(" -", "-").replace("- ", "-")


def match(list_name: str, value) -> str | None:
    """The code for a code or label typed by a person (case, dash and spacing ignored).

    A number is read as its digits, and a code with a leading zero also matches
    without it (1 is employment 01). Returns None when nothing matches.
    """
    if value is None:
        return None
    if type(value) in (str, int, float, bool):
        return _match_cached(list_name, type(value), value)   # an import asks the same few values 100,000s of times
    return _match(list_name, value)


@lru_cache(maxsize=65536)
def _match_cached(list_name: str, kind: type, value) -> str | None:
    return _match(list_name, value)


def _match(list_name: str, value) -> str | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _fold(value)
    if not text:
        return None
    exact, numeric = _folded(list_name)
    if text in exact:
        return exact[text]
    if text.isdigit():
        code = numeric.get(int(text))
        if code is not None and len(text) <= len(code):   # "1" is 01, but "001" is nothing
            return code
    return None


@lru_cache(maxsize=None)
def _folded(list_name: str) -> tuple[dict[str, str], dict[int, str]]:
    """Folded code and label -> code, and number -> code, built once per list (imports call match a lot)."""
    exact: dict[str, str] = {}
    numeric: dict[int, str] = {}
    for c, lab in _data()["lists"][list_name]:
        exact.setdefault(c.casefold(), c)
    for c, lab in _data()["lists"][list_name]:
        exact.setdefault(_fold(lab), c)
        exact.setdefault(_fold(f"{c} – {lab}"), c)     # the template's drop-down shows "code – label"
        if c.isdigit():
            numeric.setdefault(int(c), c)
    return exact, numeric


@lru_cache(maxsize=1)
def _synonym_data() -> dict[str, dict[str, str]]:
    with open(resources.path("codes", "synonyms.json"), encoding="utf-8") as f:
        data = json.load(f)
    return {name: {_fold(form): code for form, code in forms.items()}
            for name, forms in data.items() if not name.startswith("_")}


def synonyms(list_name: str) -> dict[str, str]:
    """Common forms people type for a label (resources/codes/synonyms.json), folded -> code."""
    return dict(_synonym_data().get(list_name, {}))


@lru_cache(maxsize=65536)
def synonym(list_name: str, value) -> str | None:
    """The code a common form stands for ("Male" is gender 1, "DNA" attendance 3), when value is
    not already a code or label of the list; None otherwise. The import accepts these and notes each."""
    if value is None or isinstance(value, (int, float)) or match(list_name, value) is not None:
        return None
    return _synonym_data().get(list_name, {}).get(_fold(value))


def choices(list_name: str) -> str:
    """Every choice of a list as people read it in a refusal: 'A White – British; B White – Irish; ...'."""
    return "; ".join(f"{c} {lab}" for c, lab in _data()["lists"][list_name])


def code_and_label(list_name: str, code: str) -> str:
    """'1 – Male (including trans man)': how the template's drop-downs show a choice."""
    return f"{code} – {label(list_name, code)}"
