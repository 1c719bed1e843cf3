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
    def __init__(self, tls_port: int | None = None, settings: str = ""):
        """tls_port: also listen on 127.0.0.1:tls_port with TLS only, its certificate (CN and name
        'localhost') signed by a certificate authority of its own (self.ca: the CA's certificate file).
        settings: more server settings, as postgres's own -c options."""
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
        listen = "''"
        if tls_port:
            self._certificates()
            listen = (f"127.0.0.1 -p {tls_port} -c ssl=on -c ssl_cert_file={self.folder}/server.crt "
                      f"-c ssl_key_file={self.folder}/server.key")
            with open(self.data / "pg_hba.conf", "w") as hba:      # over TCP: TLS or nothing
                hba.write("local all all trust\nhostssl all all 127.0.0.1/32 trust\n")
        self.port = tls_port
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-s", "-o",
                  f"-k {self.folder} -c listen_addresses={listen} -c fsync=off -c synchronous_commit=off "
                  f"-c full_page_writes=off -c max_connections=300 {settings}", "start")
        self._names: dict[str, str] = {}

    def _certificates(self) -> None:
        f = self.folder

        def openssl(*args):
            subprocess.run(["openssl", *args], check=True, capture_output=True)
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Test CA",
                "-keyout", f"{f}/ca.key", "-out", f"{f}/ca.crt")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", f"{f}/server.key",
                "-out", f"{f}/server.csr")
        (f / "san.ext").write_text("subjectAltName=DNS:localhost\n")
        openssl("x509", "-req", "-in", f"{f}/server.csr", "-CA", f"{f}/ca.crt", "-CAkey", f"{f}/ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", f"{f}/san.ext", "-out", f"{f}/server.crt")
        os.chmod(f / "server.key", 0o600)
        if self._as_user:
            import pwd
            user = pwd.getpwnam("postgres")
            for name in ("server.key", "server.crt"):
                os.chown(f / name, user.pw_uid, user.pw_gid)
        self.ca = f / "ca.crt"

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run([*self._as_user, str(self.bin / tool), *args], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{tool} failed: {done.stderr or done.stdout}")

    def url(self, dbname: str) -> str:
        port = f"&port={self.port}" if self.port else ""
        return f"postgresql://{self.user}@/{dbname}?host={self.folder}{port}"

    def admin(self, sql: str, dbname: str = "postgres") -> None:
        import psycopg
        port = f" port={self.port}" if self.port else ""
        with psycopg.connect(f"host={self.folder}{port} user={self.user} dbname={dbname}", autocommit=True) as conn:
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
            where = ["-h", str(self.folder), "-p", str(self.port or 5432), "-U", self.user]
            dump = subprocess.run([str(self.bin / "pg_dump"), *where, "-Fc", template], capture_output=True,
                                  check=True).stdout
            subprocess.run([str(self.bin / "pg_restore"), *where, "-d", dbname, "--no-owner"], input=dump,
                           capture_output=True, check=True)
        return self.url(dbname)

    def drop(self, dbname: str) -> None:
        self.admin(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-s", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
