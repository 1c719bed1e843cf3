"""store.service: the service's own set-up: its details, staff, venues, settings and instruments."""
from __future__ import annotations

from .. import accounts, assessments, services
from ..api import Done, Part, changed, read, write
from ..records import AuditNote, Changes, Service, Staff, Venue

DEFAULT_SAFEGUARDING_STEPS = (
    "Stay with the client and ask directly about their safety today. If they are in immediate danger, "
    "call 999. Otherwise contact the duty safeguarding lead the same day, help the client contact their GP "
    "or NHS 111 (option 2 for mental health), and give them the Samaritans number, 116 123. "
    "Record what you did in the session notes.")


class ServicePart(Part):

    # The service's name and code show on the sign-in window, before anyone signs in.
    @read("open")
    def all(self) -> list[Service]:
        return services.list_services(self.db)

    @read("open")
    def get(self, code: str | None = None) -> Service:
        return services.service_by_code(self.db, code)

    @write("admin")
    def update(self, values: dict, *, expected_version: int, service_code: str | None = None) -> Changes:
        """Name, address, phone, email and commissioner, as printed on plans, letters and returns."""
        service = self.get(service_code)
        before, after = services.update_service(self.db, service.id, values, expected_version, self.by())
        return changed("service", service.id, "update", before=before, after=after)

    @write("admin")
    def set_logo(self, logo: bytes | None, service_code: str | None = None) -> Changes:
        service = self.get(service_code)
        services.set_service_logo(self.db, service.id, logo, self.by())
        return changed("service", service.id, "update", after={"logo": f"{len(logo)} bytes" if logo else None})

    @read("signed_in")
    def logo(self, service_code: str | None = None) -> bytes | None:
        from .. import documents
        return documents.service_logo(self.db, self.get(service_code).id)

    @read("signed_in")
    def staff(self, roles: tuple[str, ...] | None = None, service_code: str | None = None) -> list[Staff]:
        service_id = self.get(service_code).id if service_code or len(self.all()) == 1 else None
        return services.list_staff(self.db, service_id, roles)

    @read("signed_in")
    def trainers(self) -> list[Staff]:
        return self.staff(("TRAINER", "CHAMPION"))

    @write("admin")
    def add_staff(self, full_name: str, role: str, *, username: str | None = None, password: str | None = None,
                  extra_roles: tuple[str, ...] = (), service_code: str | None = None, **details) -> int:
        """A staff member, with an account when a username is given; returns the staff id."""
        service = self.get(service_code)
        staff_id = services.add_staff(self.db, service.id, full_name, role, self.by(), **details)
        notes = [AuditNote("create", "staff", staff_id, after={"full_name": full_name, "role": role})]
        if username:
            account_id = accounts.create(self.db, username, password, [role, *extra_roles], staff_id, self.by())
            notes.append(AuditNote("create", "account", account_id, after={"username": username}))
        return Done(staff_id, changed("staff", staff_id, "create", notes=tuple(notes)))

    @read("signed_in")
    def venues(self) -> list[Venue]:
        return services.list_venues(self.db)

    @write("admin")
    def add_venue(self, code: str, name: str, type_: str, postcode: str | None = None,
                  service_code: str | None = None) -> int:
        venue_id = services.add_venue(self.db, self.get(service_code).id, code, name, type_, postcode, self.by())
        return Done(venue_id, changed("venue", venue_id, "create", after={"code": code, "name": name}))

    @read("signed_in")
    def setting(self, key: str, default=None, scope: str = "global"):
        return services.get_setting(self.db, key, default, scope)

    @write("admin")
    def set_setting(self, key: str, value, scope: str = "global") -> Changes:
        before = services.get_setting(self.db, key, None, scope)
        services.set_setting(self.db, key, value, scope)
        return changed("setting", f"{scope}:{key}", "update", before={"value": before}, after={"value": value})

    @read("signed_in")
    def settings(self, service_code: str | None = None) -> dict:
        """Every service setting (services.SERVICE_SETTINGS) with its value or default."""
        return services.read_settings(self.db, self.get(service_code).code)

    @write("admin")
    def set_settings(self, values: dict, service_code: str | None = None) -> Changes:
        """Change service settings by key (checked: known keys, numbers within their limits)."""
        code = self.get(service_code).code
        clean = services.check_settings(values)
        before = services.read_settings(self.db, code)
        for key, value in clean.items():
            scope = code if services.SERVICE_SETTINGS[key][2] == "service" else "global"
            services.set_setting(self.db, key, value, scope)
        return changed("setting", f"{code}:settings", "update", before={k: before[k] for k in clean}, after=clean)

    @read("signed_in")
    def venue_days(self) -> dict[int, list[str]]:
        """Each venue's opening days (none kept: every weekday)."""
        return {v.id: services.get_setting(self.db, "venue.opening_days", list(services.WEEKDAYS[:5]), f"venue:{v.id}")
                for v in services.list_venues(self.db)}

    @write("admin")
    def set_venue_days(self, venue_id: int, days: list[str]) -> Changes:
        clean = services.check_weekdays(days)
        before = services.get_setting(self.db, "venue.opening_days", None, f"venue:{venue_id}")
        services.set_setting(self.db, "venue.opening_days", clean, f"venue:{venue_id}")
        return changed("venue", venue_id, "update", before={"opening_days": before}, after={"opening_days": clean})

    @read("signed_in")
    def enabled_instruments(self, service_code: str | None = None) -> list[str]:
        return assessments.enabled_instruments(self.db, self.get(service_code).code)

    @write("admin")
    def set_enabled_instruments(self, codes_on: list[str], service_code: str | None = None) -> Changes:
        service = self.get(service_code)
        before = assessments.enabled_instruments(self.db, service.code)
        assessments.set_enabled_instruments(self.db, service.code, codes_on)
        return changed("setting", f"{service.code}:instruments", "update",
                       before={"enabled": before}, after={"enabled": list(codes_on)})

    @read("signed_in")
    def safeguarding_steps(self, service_code: str | None = None) -> str:
        """What staff must do when a safeguarding prompt is raised (PHQ-9 item 9); set per service."""
        return services.get_setting(self.db, "safeguarding.steps", DEFAULT_SAFEGUARDING_STEPS,
                                    scope=self.get(service_code).code)
