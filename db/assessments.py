"""Assessments stored with the scores the app computed (db.instruments), and their pairing."""
from __future__ import annotations

from typing import Callable, Iterable, Mapping

import json
from datetime import date

from sqlite_utils import Database

from . import codes, engine, instruments, services
from .errors import FieldError, NotFound, ValidationError
from .records import Assessment, Referral
from .validation import ErrorCollector, check_not_future, parse_date

SETTING = "instruments.enabled"


def enabled_instruments(db: Database, service_code: str) -> list[str]:
    on = services.get_setting(db, SETTING, None, scope=service_code)
    if on is None:
        return instruments.default_on_codes()
    return [c for c in instruments.INSTRUMENTS if c in on]


def set_enabled_instruments(db: Database, service_code: str, codes_on: list[str]) -> None:
    unknown = [c for c in codes_on if c not in instruments.INSTRUMENTS]
    if unknown:
        raise ValidationError(FieldError("instruments", f"Unknown instrument(s): {', '.join(unknown)}."))
    services.set_setting(db, SETTING, [c for c in instruments.INSTRUMENTS if c in codes_on], scope=service_code)


def carried_height(db: Database, client_id: int, before_date: str) -> float | None:
    """The client's latest measured height on an earlier date (any referral), for BMI."""
    for (scores,) in db.conn.execute(
            "SELECT answers FROM assessments WHERE client_id = ? AND instrument = 'BODY' AND assessed_date < ? "
            "ORDER BY assessed_date DESC, id DESC", (client_id, before_date)):
        height = json.loads(scores).get("height_cm")
        if height is not None:
            return height
    return None


def context_for(db: Database, client_id: int, assessed_date: str) -> instruments.ScoringContext:
    row = db.conn.execute("SELECT gender, ethnicity, asian_thresholds FROM clients WHERE id = ?", (client_id,)).fetchone()
    return instruments.ScoringContext(sex=row[0], ethnicity=row[1], asian_thresholds_override=bool(row[2]),
                                      carried_height_cm=carried_height(db, client_id, assessed_date))


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=float)


def prepare(referral: Referral, assessed_date, timepoint: str, instrument: str, answers: dict,
            today: date | None = None) -> tuple[str, str, str, dict]:
    """Check the occasion and the answers; returns (date, timepoint, instrument, typed answers)."""
    errors = ErrorCollector()
    day = errors.check(parse_date, assessed_date, "assessed_date", required=True)
    if day is not None:
        errors.check(check_not_future, day, "assessed_date", today)
        if day.isoformat() < referral.received_date:
            errors.add("assessed_date", f"Assessment date {day.isoformat()} is before the referral was received "
                                        f"({referral.received_date}): check the date.")
    tp = codes.match("timepoint", timepoint)
    if tp is None:
        errors.add("timepoint", "Timepoint: choose baseline, review, exit or a follow-up.")
    if instrument not in instruments.INSTRUMENTS:
        errors.add("instrument", f"Instrument '{instrument}' is not known.")
    errors.raise_if_any()
    typed = instruments.normalise_answers(instrument, answers)
    if not typed:
        raise ValidationError(FieldError("answers", f"{instruments.INSTRUMENTS[instrument].name}: no answers were given."))
    return day.isoformat(), tp, instrument, typed


def insert_scored(db: Database, client_id: int, referral_id: int, day: str, timepoint: str, instrument: str,
                  typed: dict, scored: instruments.Scored, by: str) -> int:
    cur = db.conn.execute(
        "INSERT INTO assessments (client_id, referral_id, assessed_date, timepoint, instrument, answers, scores, "
        "bands, is_result, not_computable_reason, flags, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "RETURNING id",
        (client_id, referral_id, day, timepoint, instrument, _json(typed), _json(dict(scored.scores)),
         _json(dict(scored.bands)), int(scored.computable), None if scored.computable else scored.reason,
         _json(list(scored.flags)) if scored.flags else None, by))
    return cur.fetchone()[0]


def record(db: Database, referral: Referral, assessed_date, timepoint: str, instrument: str, answers: dict,
           by: str, today: date | None = None) -> int:
    day, tp, code, typed = prepare(referral, assessed_date, timepoint, instrument, answers, today)
    scored = instruments.score(code, typed, context_for(db, referral.client_id, day))
    return insert_scored(db, referral.client_id, referral.id, day, tp, code, typed, scored, by)


def _from_row(row: dict) -> Assessment:
    return Assessment(
        id=row["id"], client_id=row["client_id"], referral_id=row["referral_id"], assessed_date=row["assessed_date"],
        timepoint=row["timepoint"], instrument=row["instrument"], answers=json.loads(row["answers"]),
        scores=json.loads(row["scores"]), bands=json.loads(row["bands"]), is_result=bool(row["is_result"]),
        not_computable_reason=row["not_computable_reason"], flags=tuple(json.loads(row["flags"] or "[]")),
        created_by=row["created_by"], row_version=row["row_version"])


def get(db: Database, assessment_id: int) -> Assessment:
    rows = list(db.query("SELECT * FROM assessments WHERE id = ?", [assessment_id]))
    if not rows:
        raise NotFound(f"There is no assessment with id {assessment_id}.")
    return _from_row(rows[0])


def for_client(db: Database, client_id: int) -> list[Assessment]:
    return [_from_row(r) for r in db.query(
        "SELECT * FROM assessments WHERE client_id = ? ORDER BY assessed_date DESC, id DESC", [client_id])]


def series(db: Database, client_id: int, instrument: str) -> list[Assessment]:
    return [_from_row(r) for r in db.query(
        "SELECT * FROM assessments WHERE client_id = ? AND instrument = ? AND is_result = 1 "
        "ORDER BY assessed_date, id", [client_id, instrument])]


def points(db: Database, referral_ids: list[int] | None = None, where: str = "", params: tuple = (),
           score_keys: Iterable[str] | None = None) -> list[instruments.AssessmentPoint]:
    """Assessment points for pairing; the id is the order recorded. score_keys: only these scores
    are read into each point (the rest of the JSON is never parsed); None for every score."""
    point = point_maker(score_keys)
    return [point(row) for row in point_rows(db, referral_ids, where, params, score_keys)]


def point_rows(db: Database, referral_ids: list[int] | None = None, where: str = "", params: tuple = (),
               score_keys: Iterable[str] | None = None, owners: Mapping[str, str] | None = None) -> list[tuple]:
    """The rows points() reads, as they come: (id, referral_id, instrument, assessed_date, timepoint,
    is_result, then the scores' JSON: the whole object, or each of score_keys in sorted order).
    instruments.pairs_by_referral_rows pairs them with point_maker(score_keys), making a point only
    of the rows paired. owners: score key -> the one instrument whose assessments it is read from
    (elsewhere it is left out, and their JSON not looked into for it)."""
    keys = None if score_keys is None else sorted(score_keys)
    if keys is None:
        read = "scores"
    else:
        def member(k):
            got = engine.json_member(db, "scores", k)
            if owners is None or k not in owners:
                return got
            return f"CASE WHEN instrument = '{owners[k].replace(chr(39), chr(39) * 2)}' THEN {got} END"
        read = ", ".join(member(k) for k in keys) or "NULL"
    sql = f"SELECT id, referral_id, instrument, assessed_date, timepoint, is_result, {read} FROM assessments"
    if referral_ids is not None:
        sql += f" WHERE referral_id IN ({','.join('?' * len(referral_ids))})"
        params = tuple(referral_ids)
    elif where:
        sql += " WHERE " + where
    return db.conn.execute(sql, params).fetchall()


def point_maker(score_keys: Iterable[str] | None = None) -> Callable[[tuple], instruments.AssessmentPoint]:
    """The AssessmentPoint of a row of point_rows(..., score_keys)."""
    make = instruments.AssessmentPoint
    if score_keys is None:
        return lambda r: make(r[0], r[1], r[2], r[3], r[4], r[0], bool(r[5]), json.loads(r[6]))
    columns = tuple(enumerate(sorted(score_keys), 6))
    read: dict = {}            # a score's JSON text -> its value (numbers and text only; scores repeat a great deal)

    def point(r):
        scores = {}
        for i, k in columns:
            text = r[i]
            if text is not None:
                value = read.get(text)
                if value is None:
                    value = _json_value(text)
                    if isinstance(value, (int, float, str)):
                        read[text] = value
                scores[k] = value
        return make(r[0], r[1], r[2], r[3], r[4], r[0], bool(r[5]), scores)
    return point


def _json_value(text: str):
    """One JSON value as json.loads reads it (SQLite's -> gives the value's JSON text)."""
    first = text[0]
    if first == "n":
        return None                                  # null
    if first in '"tf[{':
        return json.loads(text)
    return float(text) if "." in text or "e" in text or "E" in text else int(text)


def pairs_for_referral(db: Database, referral_id: int) -> dict[str, instruments.Pair]:
    return instruments.pairs_by_instrument(points(db, [referral_id]))
