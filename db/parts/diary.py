"""store.diary: the diary. Sessions booked (one-to-one, group, blocks of weekly sessions) with clash
checks that offer the next free slot, outcomes recorded (with the next booking in the same step),
moves and cancellations kept in the history, and the lists: a trainer's day and caseload, anyone's
week per trainer or venue for coordinators, the follow-up list after two DNAs in a row."""
from __future__ import annotations

from datetime import date

from .. import diary, policy, referrals, sessions
from ..api import Done, Part, changed, client_view, read, write
from ..records import (AuditNote, CaseloadItem, Changes, DiaryEntry, DnaFollowUp, Goal, MyDay, Recorded, Session,
                       SessionChange, from_row)
from ..rules import DNA
from .owners import referral_client, session_client


def _staff_of(values: dict, actor) -> int | None:
    for key in ("staff_id",):
        if values.get(key) is not None:
            return values[key]
    booking = values.get("values")
    if isinstance(booking, dict) and booking.get("staff_id") is not None:
        return booking["staff_id"]
    return getattr(actor, "staff_id", None)


def _diary_view(values: dict, actor) -> str:
    # Your own diary (any venue); anyone else's, or everyone's, is for coordinators and managers.
    own = getattr(actor, "staff_id", None)
    staff = values.get("staff_id")
    return "own_diary" if own is not None and staff == own else "diary_any"


def _booking(values: dict, actor) -> str:
    # Booking into your own diary is a change to your own client; into another's, running the diary.
    own = getattr(actor, "staff_id", None)
    staff = _staff_of(values, actor)
    return "edit_client" if staff is None or staff == own else "diary_any"


class DiaryPart(Part):

    # --- booking ---------------------------------------------------------------------------------------

    @write("edit_client", client=("referral_id", referral_client))
    def add(self, referral_id: int, values: dict, *, today: date | None = None) -> Changes:
        """A session as entered after the fact or imported (no clash offer): see book() for the diary."""
        referral = referrals.get(self.db, referral_id)
        clean = sessions.validate(values, referral.received_date, today)
        session_id = sessions.insert(self.db, referral_id, clean, self.by(), today)
        return changed("session", session_id, "create", after=clean)

    @write(_booking, client=("referral_id", referral_client))
    def book(self, referral_id: int, values: dict, *, weeks: int = 1, confirm_past: bool = False,
             today: date | None = None) -> Done:
        """Book one session, or a block of `weeks` weekly sessions, into the diary; returns their ids.
        Refuses with Clash (naming the clash, offering the next free slot) or NeedsConfirmation (past)."""
        referral = referrals.get(self.db, referral_id)
        values = {**values, "staff_id": values.get("staff_id") or self.actor.staff_id}
        clean = diary.clean_booking(self.db, referral, values, weeks=weeks, confirm_past=confirm_past, today=today)
        diary.check_clashes(self.db, clean["staff_id"], [referral.client_id], clean)
        ids = diary.insert_booking(self.db, referral, clean, self.by())
        after = {k: clean[k] for k in ("session_date", "start_time", "duration_minutes", "mode", "venue_id",
                                       "staff_id", "weeks")}
        return Done(ids, changed("session", ids, "create", after=after))

    @write(_booking)
    def book_group(self, referral_ids: list[int], values: dict, *, title: str, weeks: int = 1,
                   confirm_past: bool = False, today: date | None = None) -> Done:
        """One group session (or a weekly block of them) holding several clients: one session per client,
        linked by the group, so each member's attendance counts as a one-to-one session's does."""
        from ..errors import FieldError, ValidationError
        if len(set(referral_ids)) < 2:
            raise ValidationError(FieldError("clients", "Clients: a group session needs at least two clients."))
        found = [referrals.get(self.db, rid) for rid in dict.fromkeys(referral_ids)]
        for r in found:
            policy.require(self.db, self.actor, "edit_client", r.client_id)
        title = diary.clean_group_title(title)
        values = {**values, "mode": values.get("mode") or "GROUP",
                  "staff_id": values.get("staff_id") or self.actor.staff_id}
        clean = diary.clean_booking(self.db, found[0], values, weeks=weeks, confirm_past=confirm_past, today=today)
        for r in found[1:]:
            diary.clean_booking(self.db, r, values, weeks=weeks, confirm_past=True, today=today)
        diary.check_clashes(self.db, clean["staff_id"], [r.client_id for r in found], clean)
        group_id = diary.add_group(self.db, found[0].service_id, title, clean["staff_id"], clean.get("venue_id"),
                                   self.by())
        ids = [i for r in found for i in diary.insert_booking(self.db, r, clean, self.by(), group_id)]
        return Done(ids, changed("session", ids, "create", detail=f"group '{title}' ({len(found)} clients)",
                                 after={"group_id": group_id, "session_date": clean["session_date"],
                                        "start_time": clean["start_time"], "weeks": clean["weeks"]}))

    # --- recording -------------------------------------------------------------------------------------------

    @write("edit_client", client=("session_id", session_client))
    def record_attendance(self, session_id: int, attendance: str, *, expected_version: int,
                          today: date | None = None) -> Changes:
        before = sessions.record_attendance(self.db, session_id, attendance, expected_version, self.by(), today)
        return changed("session", session_id, "update", before={"attendance": before.attendance},
                       after={"attendance": attendance})

    @write("edit_client", client=("session_id", session_client))
    def record(self, session_id: int, attendance: str, *, expected_version: int, notes: str | None = None,
               next_steps: str | None = None, goal_ids=(), next_booking: dict | None = None,
               confirm_past: bool = False, today: date | None = None) -> Done:
        """Record what happened (notes, goals worked on) and, in the same step, book the next session."""
        before = diary.record(self.db, session_id, attendance, expected_version, self.by(), notes=notes,
                              next_steps=next_steps, goal_ids=goal_ids, today=today)
        booked: list[int] = []
        if next_booking:
            values = {"staff_id": before["staff_id"], "mode": before["mode"], "venue_id": before["venue_id"],
                      "duration_minutes": before["duration_minutes"], **next_booking}
            if values.get("type") is None:
                values.pop("type", None)
            booked = self.book(before["referral_id"], values, confirm_past=confirm_past, today=today)
        follow = (before["referral_id"],) if attendance == DNA and diary.two_dnas_in_a_row(
            self.db, before["referral_id"]) else ()
        note = AuditNote("update", "session", session_id, before={"attendance": before["attendance"]},
                         after={"attendance": attendance, "goals": list(goal_ids or ()),
                                "next_booked": booked} if booked else
                         {"attendance": attendance, "goals": list(goal_ids or ())})
        return Done(Recorded((session_id,), tuple(booked), follow),
                    changed("session", [session_id, *booked], "update", notes=(note,)))

    @write("own_diary")
    def record_group(self, outcomes: dict[int, str], *, versions: dict[int, int], notes: str | None = None,
                     today: date | None = None) -> Done:
        """Attendance of every member of a group session on one screen (session id -> attendance code)."""
        notes_out, follow = [], []
        for session_id, code in outcomes.items():
            entry = diary.entry(self.db, session_id)
            policy.require(self.db, self.actor, "edit_client", entry.client_id)
            before = diary.record(self.db, session_id, code, versions.get(session_id), self.by(), notes=notes,
                                  today=today)
            notes_out.append(AuditNote("update", "session", session_id, before={"attendance": before["attendance"]},
                                       after={"attendance": code}))
            if code == DNA and diary.two_dnas_in_a_row(self.db, entry.referral_id):
                follow.append(entry.referral_id)
        ids = list(outcomes)
        return Done(Recorded(tuple(ids), (), tuple(follow)),
                    changed("session", ids, "update", notes=tuple(notes_out)))

    # --- moving and cancelling ---------------------------------------------------------------------------------

    @write("edit_client", client=("session_id", session_client))
    def move(self, session_id: int, values: dict, reason: str, *, expected_version: int,
             confirm_past: bool = False, today: date | None = None) -> Changes:
        """Move a booked session (a group's whole meeting) with a reason; the history keeps both times."""
        current = diary.entry(self.db, session_id)
        referral = referrals.get(self.db, current.referral_id)
        merged = {"session_date": current.session_date, "start_time": current.start_time,
                  "duration_minutes": current.duration_minutes, "mode": current.mode, "venue_id": current.venue_id,
                  "type": current.type, "staff_id": current.staff_id, **values}
        reason = diary.clean_reason(reason)
        clean = diary.clean_booking(self.db, referral, merged, confirm_past=confirm_past, today=today)
        ids = diary.move(self.db, session_id, clean, reason, expected_version, self.by())
        return changed("session", ids, "update", detail=f"moved: {reason}",
                       before={"session_date": current.session_date, "start_time": current.start_time},
                       after={"session_date": clean["session_date"], "start_time": clean["start_time"]})

    @write("edit_client", client=("session_id", session_client))
    def cancel(self, session_id: int, by_whom: str, reason: str, *, expected_version: int) -> Changes:
        """Cancel a booked session: by_whom 'client' (code 2) or 'service' (code 4), with a reason."""
        code = {"client": "2", "service": "4"}.get(by_whom, by_whom)
        reason = diary.clean_reason(reason)
        ids = diary.cancel(self.db, session_id, code, reason, expected_version, self.by())
        return changed("session", ids, "update", detail=f"cancelled: {reason}", after={"attendance": code})

    # --- reading ---------------------------------------------------------------------------------------------

    @read("view_client", client="client_id", audit_view=client_view("sessions booked"))
    def next_booked(self, client_id: int, today: date | None = None) -> list[Session]:
        return sessions.next_booked(self.db, client_id, today)

    @read("view_client", client=("session_id", session_client), audit_view=client_view("session"))
    def entry(self, session_id: int, today: date | None = None) -> DiaryEntry:
        return diary.entry(self.db, session_id, today)

    @read("view_client", client=("session_id", session_client), audit_view=client_view("session changes"))
    def history(self, session_id: int) -> list[SessionChange]:
        return diary.history(self.db, session_id)

    @read("view_client", client=("session_id", session_client))
    def goals_worked(self, session_id: int) -> list[int]:
        return diary.goals_worked(self.db, session_id)

    @read("view_client", client=("referral_id", referral_client), audit_view=client_view("plan goals"))
    def goals(self, referral_id: int) -> list[Goal]:
        """The goals of the referral's plans, for 'which goals were worked on'."""
        return [from_row(Goal, r) for r in self.db.query(
            "SELECT g.* FROM goals g JOIN plans p ON p.id = g.plan_id WHERE p.referral_id = ? "
            "ORDER BY p.agreed_date DESC, g.position, g.id", [referral_id])]

    @read(_diary_view)
    def week(self, first: date, days: int = 7, *, staff_id: int | None = None, venue_id: int | None = None,
             today: date | None = None) -> list[DiaryEntry]:
        """Sessions from `first` for `days` days: one trainer's (yours, or anyone's for coordinators), one
        venue's, or everyone's (staff_id None: coordinators and managers)."""
        found = diary.entries(self.db, first, days, staff_id=staff_id, venue_id=venue_id, today=today)
        return self._own_only(found)

    @read("own_diary")
    def group(self, group_id: int, session_date: str, today: date | None = None) -> list[DiaryEntry]:
        """The members of one meeting of a group session (those this user may see)."""
        day = date.fromisoformat(session_date)
        found = [e for e in diary.entries(self.db, day, 1, group_id=group_id, today=today)]
        return [e for e in found if policy.allows(self.db, self.actor, "view_client", e.client_id)]

    @read("own_diary")
    def my_day(self, today: date | None = None) -> MyDay:
        """Today's sessions in time order, past sessions still to record, and the caseload."""
        today = today or date.today()
        staff_id = self.actor.staff_id
        if staff_id is None:
            return MyDay(today.isoformat(), None)
        todays = diary.entries(self.db, today, 1, staff_id=staff_id, today=today)
        return MyDay(today.isoformat(), staff_id, tuple(self._own_only(todays)),
                     tuple(diary.caseload(self.db, staff_id, today)),
                     tuple(self._own_only(diary.not_recorded(self.db, staff_id, today))))

    @read(_diary_view)
    def caseload(self, staff_id: int, today: date | None = None) -> list[CaseloadItem]:
        return diary.caseload(self.db, staff_id, today)

    @read("allocate")
    def follow_up(self, staff_id: int | None = None) -> list[DnaFollowUp]:
        """Referrals whose last two recorded sessions were both missed: the coordinator's follow-up list."""
        return diary.follow_up(self.db, staff_id)

    @read("signed_in")
    def staff_id_for(self, username: str) -> int:
        return diary.staff_for_username(self.db, username)

    @write("admin")
    def set_venue_days(self, venue_id: int, days: str | None) -> Changes:
        """The ISO weekdays a venue is open ('12345' Monday to Friday; None: any day)."""
        diary.set_venue_days(self.db, venue_id, days, self.by())
        return changed("venue", venue_id, "update", after={"open_days": days})

    def _own_only(self, found: list[DiaryEntry]) -> list[DiaryEntry]:
        # A champion sees only clients allocated to them, even in their own diary.
        actor = self.actor
        if actor is None or actor.has("TRAINER", "COORD", "MANAGER", "ADMIN"):
            return found
        allowed: dict[int, bool] = {}
        for e in found:
            if e.client_id not in allowed:
                allowed[e.client_id] = policy.allows(self.db, actor, "view_client", e.client_id)
        return [e for e in found if allowed[e.client_id]]
