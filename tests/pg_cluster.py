"""Tests only: a throwaway PostgreSQL cluster (issue 18), started in a few hundred milliseconds.

initdb and pg_ctl from /usr/lib/postgresql/NN/bin (or PG_BIN); initdb refuses root, so under root
the cluster belongs to the `postgres` user (runuser). It listens on a socket in its own folder
under /tmp only (no TCP port), trusts local connections, and skips fsync: it holds synthetic data
for one run and is removed at the end.
"""
from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    candidates = [os.environ.get("PG_BIN", "")] + sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


MISSING = ("PostgreSQL is not installed here (no initdb/pg_ctl in /usr/lib/postgresql/*/bin or PG_BIN): "
           "install postgresql-15 to run the PostgreSQL round")


class Cluster:
    def __init__(self):
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError(MISSING)
        self.folder = Path(tempfile.mkdtemp(prefix="htdesk-pg-"))
        self.data = self.folder / "data"
        self._as_user = []
        if os.geteuid() == 0:
            import pwd
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self.user = "postgres"
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", self.user, "--no-sync", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-instructions")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-s", "-o",
                  f"-k {self.folder} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                  "-c full_page_writes=off -c max_connections=300", "start")
        self._names: dict[str, str] = {}

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run([*self._as_user, str(self.bin / tool), *args], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{tool} failed: {done.stderr or done.stdout}")

    def url(self, dbname: str) -> str:
        return f"postgresql://{self.user}@/{dbname}?host={self.folder}"

    def admin(self, sql: str) -> None:
        import psycopg
        with psycopg.connect(f"host={self.folder} user={self.user} dbname=postgres", autocommit=True) as conn:
            conn.execute(sql)

    @staticmethod
    def name_for(key: str) -> str:
        return "htd_" + hashlib.sha1(key.encode()).hexdigest()[:20]

    def create(self, dbname: str, template: str | None = None) -> str:
        """A new database: empty, or a copy of template (CREATE DATABASE ... TEMPLATE; while someone is
        connected to template, which PostgreSQL refuses, through pg_dump instead)."""
        import psycopg
        self.drop(dbname)
        if template is None:
            self.admin(f"CREATE DATABASE {dbname}")
            return self.url(dbname)
        try:
            self.admin(f"CREATE DATABASE {dbname} TEMPLATE {template} STRATEGY FILE_COPY")
        except psycopg.errors.ObjectInUse:
            self.admin(f"CREATE DATABASE {dbname}")
            dump = subprocess.run([str(self.bin / "pg_dump"), "-h", str(self.folder), "-U", self.user, "-Fc",
                                   template], capture_output=True, check=True).stdout
            subprocess.run([str(self.bin / "pg_restore"), "-h", str(self.folder), "-U", self.user, "-d", dbname,
                            "--no-owner"], input=dump, capture_output=True, check=True)
        return self.url(dbname)

    def drop(self, dbname: str) -> None:
        self.admin(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-s", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
