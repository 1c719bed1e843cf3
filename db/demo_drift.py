"""The demo service's drift (issue 13), for db/demo.py's generator.

Over its two years the demo service drifts the way the studies of health trainer services found
real ones did: from community settings and the most deprived neighbourhoods towards NHS-referred,
clinic-based work. The share of community and self referrals, of clients from the two most
deprived fifths and of sessions in community venues falls gradually, so the dashboard's drift
view and its sentences have something to show. A separate random stream (seeded from the main
one without drawing from it) keeps every other choice of the demo as it was.
"""
from __future__ import annotations

import random
from datetime import date

DRIFT_DEPRIVED = 0.5       # how far the share of clients from the two most deprived fifths moves
DRIFT_SOURCE = 0.5         # ... of community and self referrals
DRIFT_VENUE = 0.5          # ... of sessions in community venues
_COMMUNITY_SOURCES = ("SELF", "LA", "HOUSING", "EMPLOY", "VCS", "FAITH", "WORK", "OUTREACH")
_NHS_SOURCES = ("GP", "GP", "GP", "NHSHC", "SOCPRES", "PHARM", "HEALTH")
_COMMUNITY_VENUES = (1, 2, 3, 4, 5, 6, 9)       # indexes of VENUES
_CLINICAL_VENUES = (0, 0, 7)


def _drift_rng(gen) -> random.Random:
    if not hasattr(gen, "_drift_random"):
        gen._drift_random = random.Random(gen.rng.getstate()[1][0] ^ 0x5EED)
    return gen._drift_random


def _drift(gen, day: date) -> float:
    """-1 two years before today, rising evenly to +1 today: the first year leans towards the
    community and the most deprived neighbourhoods, the second away from them, so the demo's
    totals stay what they were."""
    return min(1.0, max(-1.0, 1 - 2 * (gen.today - day).days / 730))


def deprivation(gen, client: dict, day: date) -> None:
    """A new client's neighbourhood as the drift moves it (_drift: the two most deprived fifths more likely
    in the first year, less in the second)."""
    r, d = _drift_rng(gen), _drift(gen, day)
    deprived = client.get("imd_quintile") in (1, 2)
    if (d > 0 and deprived) or (d < 0 and not deprived and client.get("imd_quintile")):
        if r.random() < DRIFT_DEPRIVED * abs(d):
            postcode = r.choice(gen.pool.other if deprived else gen.pool.deprived)
            client.update(postcode=postcode[0], lsoa_code=postcode[1], imd_decile=postcode[2],
                          imd_quintile=(postcode[2] + 1) // 2 if postcode[2] else None,
                          imd_edition="IMD2019" if postcode[1] else None, postcode_status=postcode[3])


def source(gen, code: str, day: date) -> str:
    """A referral's source as the drift moves it (community and self referrals, then the NHS's)."""
    return _moved(gen, code, day, _COMMUNITY_SOURCES, _NHS_SOURCES, DRIFT_SOURCE)


def venue(gen, index: int, day: date) -> int:
    """A session's venue (an index of the demo's VENUES) as the drift moves it (community venues, then clinics)."""
    return _moved(gen, index, day, _COMMUNITY_VENUES, _CLINICAL_VENUES, DRIFT_VENUE)


def _moved(gen, value, day: date, early: tuple, late: tuple, strength: float):
    """value, or in proportion to the drift one of `late` (in the second year, for one of `early`) or of
    `early` (in the first year, for one of `late`)."""
    r, d = _drift_rng(gen), _drift(gen, day)
    if d > 0 and value in early and r.random() < strength * d:
        return r.choice(late)
    if d < 0 and value in late and r.random() < strength * -d:
        return r.choice(early)
    return value
