"""Drafts: typing kept in the database so a crash loses no work, seen only by the person who typed it."""

import pytest

from db.errors import PermissionDenied
from db.store import CaseStore
from rawdb import raw_connect

TYPED = {"first_name": "Siobhán", "last_name": "O'Neill", "date_of_birth": "12/03/19", "gender": "2",
         "contact_text": 1}


def test_a_draft_is_saved_listed_for_its_owner_only_and_discarded(case_store):
    case_store.drafts.save("client:new", TYPED)
    case_store.drafts.save("client:7", {"phone": "0191 496 0000"})

    # Read back through a second connection, as the next start of the app would.
    with CaseStore.open(case_store.path) as later:
        later.sign_in("admin", "amber-kettle-42")
        found = {d.form_key: d for d in later.drafts.mine()}
        assert set(found) == {"client:new", "client:7"}
        assert found["client:new"].values == TYPED
        assert found["client:new"].saved_at[:4].isdigit() and "T" in found["client:new"].saved_at

        later.sign_in("coord", "amber-kettle-42")
        assert later.drafts.mine() == []          # someone else's typing is never offered
        later.drafts.discard("client:new")    # and they cannot remove it
    assert {d.form_key for d in case_store.drafts.mine()} == {"client:new", "client:7"}

    case_store.drafts.discard("client:new")
    assert [d.form_key for d in case_store.drafts.mine()] == ["client:7"]
    rows = raw_connect(case_store.path).execute("SELECT form_key FROM drafts").fetchall()
    assert rows == [("client:7",)]


def test_a_newer_save_replaces_the_draft_of_the_same_form(case_store):
    case_store.drafts.save("client:new", {"first_name": "Si"})
    case_store.drafts.save("client:new", TYPED)
    drafts = case_store.drafts.mine()
    assert len(drafts) == 1 and drafts[0].values == TYPED


def test_nobody_signed_in_has_no_drafts(case_store):
    case_store.drafts.save("client:new", TYPED)
    with CaseStore.open(case_store.path) as anonymous:
        with pytest.raises(PermissionDenied):
            anonymous.drafts.mine()
        with pytest.raises(PermissionDenied):
            anonymous.drafts.save("client:new", {"first_name": "X"})
