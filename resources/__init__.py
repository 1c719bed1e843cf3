"""Data files shipped with the app, and one helper to find them."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def path(*parts: str) -> Path:
    """Path of a shipped resource, e.g. path("reference", "imd2019_lsoa11.csv.gz")."""
    return ROOT.joinpath(*parts)
