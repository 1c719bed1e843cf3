"""store.reference: the shipped postcode and deprivation reference (public open data)."""
from __future__ import annotations

from ..api import Part, read
from ..deprivation import DeprivationLookup


class ReferencePart(Part):
    """Open data, not about anyone: usable before sign-in (the first-run wizard builds it)."""

    def __init__(self, store, source=None):
        super().__init__(store)
        self._source = source
        self._lookup: DeprivationLookup | None = None

    def _close(self) -> None:
        if self._lookup is not None:
            self._lookup.close()
            self._lookup = None

    @read("open")
    def ready(self) -> bool:
        return self._lookup is not None or DeprivationLookup.is_built(self._source)

    @read("open")
    def prepare(self, on_progress=None, cancelled=None) -> None:
        """Build the postcode reference on first use (a few seconds, once per PC), with progress."""
        if self._lookup is None:
            self._lookup = DeprivationLookup.open(self._source, on_progress, cancelled)

    @read("open")
    def deprivation_for(self, postcode: str | None) -> dict:
        """The stored deprivation fields for a postcode (fixed at save time, so past returns do not move)."""
        if not postcode:
            return {"lsoa_code": None, "imd_decile": None, "imd_quintile": None, "imd_edition": None,
                    "postcode_status": None}
        self.prepare()
        found = self._lookup.lookup(postcode)
        return {"lsoa_code": found.lsoa_code, "imd_decile": found.imd_decile, "imd_quintile": found.imd_quintile,
                "imd_edition": found.imd_edition, "postcode_status": found.match_status}

    @read("open")
    def lsoa_info(self, code: str):
        self.prepare()
        return self._lookup.lsoa_info(code)

    @read("open")
    def local_area(self, lsoa_counts: dict[str, int]) -> tuple[tuple[str, ...], int, int]:
        """The local authorities a service's clients live in, their LSOAs, and how many of those are
        in the two most deprived fifths (see DeprivationLookup.local_area): open data only."""
        self.prepare()
        return self._lookup.local_area(lsoa_counts)
