"""Setting a service up on a PostgreSQL server (htdesk init --server postgresql://HOST/DBNAME).

The database must exist and be empty (the IT team creates it, owned by the app's server login: see
the README); the schema's named steps are applied, then the service, its first account
(administrator and manager) and the audit event go in one transaction (store.set_up_service, as
CaseStore.create_new does for a file). A failure part-way leaves the schema and no service: running init again on the same
database says it is already set up only once a service exists.
"""
from __future__ import annotations

from ..errors import FieldError, ValidationError


def create_service_on_server(cls, url: str, *, service_name: str, service_code: str, admin_username: str,
                             admin_password: str, admin_full_name: str | None = None, demo: bool = False,
                             contact: dict | None = None, **kw):
    from .. import accounts, connection, services
    from ..store import set_up_service
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
            set_up_service(store.db, service_name, service_code, admin_username, admin_password, admin_full_name,
                           contact, demo)
        except BaseException:
            store.close()
            raise
    return store
