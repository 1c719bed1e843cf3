"""The pure rules screens and the command line may use beside the store: code labels,
validators for checking a field as it is typed, a few constants. Screens import the
store (db.store), value types (db.records, db.errors) and this module, never a db
subject module; a test keeps it so (tests/test_architecture.py).

Names load on first use (a module __getattr__), so importing this module costs
nothing at start-up: the sign-in window must not wait for the data layer.
"""
from __future__ import annotations

import importlib

_NAMES = {
    # code lists and their labels (DATA.md)
    "codes": ("db.codes", None),
    "app_version": ("db.version", "app_version"),
    # checking a value as it is typed; the store checks again on save
    "field_label": ("db.validation", "field_label"),
    "clean_phone": ("db.validation", "clean_phone"),
    "parse_date": ("db.validation", "parse_date"),
    "format_date": ("db.validation", "format_date"),
    "check_not_future": ("db.validation", "check_not_future"),
    "check_closure": ("db.validation", "check_closure"),
    "age_on": ("db.validation", "age_on"),
    "MIN_AGE": ("db.validation", "MIN_AGE"),
    "format_nhs_number": ("db.validation", "format_nhs_number"),
    "normalise_postcode": ("db.validation", "normalise_postcode"),
    "validate_client": ("db.clients", "validate"),
    "CLIENT_FLAG_FIELDS": ("db.clients", "FLAG_FIELDS"),
    "validate_referral": ("db.referrals", "validate"),
    "validate_service": ("db.services", "validate_service"),
    "check_new_password": ("db.accounts", "check_new_password"),
    # encryption at rest (db/keys.py): whether a file is encrypted; the driver's error classes
    "is_encrypted_file": ("db.keys", "is_encrypted_file"),
    "DRIVER_ERRORS": ("db.driver", "Error"),
    # a service's database on a PostgreSQL server (issue 18): whether --db names one
    "is_server_url": ("db.pg", "is_server_url"),
    "saved_server": ("db.pg.saved", "saved_server"),
    "save_server": ("db.pg.saved", "save_server"),
    "check_server_url": ("db.pg.server", "check_url"),
    "forget_server": ("db.pg.saved", "forget_server"),
    "secure_server": ("db.pg.security", "secure_store"),
    "server_security_checks": ("db.pg.security", "server_checks"),
    "names_no_user": ("db.pg.security", "names_no_user"),
    "open_as_person": ("db.pg.security", "open_as_person"),
    # domain rules (db/rules.py)
    "THREE_TRIES": ("db.rules", "THREE_TRIES"),
    "UNSUCCESSFUL": ("db.rules", "UNSUCCESSFUL"),
    "attended": ("db.rules", "attended"),
    # periods of the quarterly return, and the open-data licence lines for the About box
    "parse_period": ("db.periods", "parse_period"),
    "licence_lines": ("db.deprivation", "licence_lines"),
    "LETTER_KINDS": ("db.documents", "LETTER_KINDS"),
    "check_output_path": ("db.outputs", "check_output_path"),
    # where an export's kept documents and returns' files go: FILE.xlsx -> FILE-documents
    "documents_folder": ("db.transfer.workbook_spec", "documents_folder"),
    # an SQLite or disk error that escaped as one plain db.errors error (issue 16)
    "plain_error": ("db.connection", "translate"),
    "plain_disk_error": ("db.connection", "translate_os_error"),
    "SDC_POLICIES": ("db.returns", "POLICIES"),
    # the return's breakdown labels and quarters, for the return page and the dashboard
    "return_code_label": ("db.return_labels", "code_label"),
    "RETURN_DIMENSION_LABELS": ("db.return_labels", "DIMENSION_LABELS"),
    "period_containing": ("db.periods", "period_containing"),
    # what the reach and equity dashboard shows (db.reach)
    "REACH_ITEMS": ("db.reach", "ITEMS"),
    "REACH_SECTIONS": ("db.reach", "SECTIONS"),
    "REACH_QUARTERS_OFFERED": ("db.reach", "QUARTERS_OFFERED"),
    "QUALITY_KINDS": ("db.data_quality", "QUALITY_KINDS"),
    # plans, assessment forms and signposting (issue 12): forms are drawn from the instrument data
    "INSTRUMENTS": ("db.instruments", "INSTRUMENTS"),
    "band_label": ("db.instruments", "band_label"),
    "REVIEW_OUTCOMES": ("db.plans", "REVIEW_OUTCOMES"),
    "needs_safeguarding_prompt": ("db.safeguarding", "needs_prompt"),
    "check_measurement": ("db.validation", "check_measurement"),
    "MEASUREMENTS": ("db.validation", "MEASUREMENTS"),
    "MEANINGFUL_POINTS": ("db.instruments", "DEFAULT_MEANINGFUL_POINTS"),
    "WEIGHT_LOSS_PCT": ("db.instruments", "DEFAULT_WEIGHT_LOSS_PCT"),
}

__all__ = sorted(_NAMES)


def __getattr__(name: str):
    try:
        module_name, attr = _NAMES[name]
    except KeyError:
        raise AttributeError(f"db.public has no {name}") from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value
