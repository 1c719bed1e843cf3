"""Setting a service up on a PostgreSQL server (htdesk init --server postgresql://HOST/DBNAME).

The database must exist and be empty (the IT team creates it, owned by the app's server login: see
the README); the schema's named steps are applied, then the service, its first account
(administrator and manager) and the audit event go in one transaction, as CaseStore.create_new does
for a file. A failure part-way leaves the schema and no service: running init again on the same
database says it is already set up only once a service exists.
"""
from __future__ import annotations

from ..errors import FieldError, ValidationError


def create_service_on_server(cls, url: str, *, service_name: str, service_code: str, admin_username: str,
                             admin_password: str, admin_full_name: str | None = None, demo: bool = False,
                             contact: dict | None = None, **kw):
    from .. import accounts, audit, connection, services
    from ..store import SYSTEM
    services.validate_service(service_name, service_code)
    if not demo:
        accounts.check_new_password(admin_password, username=admin_username,
                                    service_names=(service_name, service_code))
    with connection.plain_errors(None):
        store = cls.open(url, create=True, **kw)
        try:
            if store.db.conn.execute("SELECT COUNT(*) FROM services").fetchone()[0]:
                raise ValidationError(FieldError("db", "This server database already holds a service: open it "
                                                       "instead (--db), or give the address of an empty database."))
            with connection.transaction(store.db):
                service_id = services.create_service(store.db, service_name, service_code, SYSTEM.username,
                                                     **services.check_contact(contact or {}))
                staff_id = services.add_staff(store.db, service_id, admin_full_name or admin_username,
                                              "MANAGER", SYSTEM.username)
                accounts.create(store.db, admin_username, admin_password, ["ADMIN", "MANAGER"], staff_id,
                                SYSTEM.username,
                                password_hash=accounts.hash_password(admin_password) if demo else None)
                services.set_meta(store.db, "demo", "1" if demo else "0")
                audit.record(store.db, SYSTEM, "create", "service", service_id,
                             after={"name": service_name, "code": service_code, "admin": admin_username})
        except BaseException:
            store.close()
            raise
    return store
