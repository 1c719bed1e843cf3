import pytest

from print_case import build_case


@pytest.fixture
def case(tmp_path):
    """A client with a plan of two goals, measures over three sessions and two booked sessions."""
    c = build_case(tmp_path)
    yield c
    c.store.close()
