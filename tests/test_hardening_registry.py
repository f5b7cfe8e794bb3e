"""Issue 10, items 3, 6, 7, 8, 10, 11: registry files, locks, read-only / full databases, CSV limits, big chunks."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import resource
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from cli_inprocess import run
from conftest import NOW, require_service
from registry_support import HEADER, dose_row, fresh_registry, write_csv
from vaxcert import StorageError
from vaxcert.registry import ReportRow, open_registry, render, safe_cell
from vaxcert.registry.store import MAX_IN_LIST

AT = ["--at", NOW.isoformat()]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _init(db: Path) -> str:
    url = f"sqlite:///{db}"
    assert run("registry", "init", "--db", url).returncode == 0
    return url


def _rows(n: int, start: int = 0) -> list[dict[str, str]]:
    return [dose_row(i) for i in range(start, start + n)]


def _count(db: Path) -> tuple[int, str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        doses = conn.execute("SELECT COUNT(*) FROM doses").fetchone()[0]
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
    return doses, check


def _cli(*args: str, prefix: Sequence[str] = (), preexec: object = None) -> subprocess.CompletedProcess[str]:
    """The real console entry point in a child process (tracebacks would show on its stderr)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([*prefix, sys.executable, "-m", "vaxcert.cli", *args], capture_output=True, text=True,
                          env=env, check=False, timeout=300, preexec_fn=preexec)  # type: ignore[arg-type]


# -- item 3: file permissions ----------------------------------------------------------------------


def test_registry_files_are_owner_only(tmp_path: Path) -> None:
    """With umask 0 the registry, its WAL, SHM and lock files are created 0600 (names, births, IDs inside)."""
    db = tmp_path / "reg" / "registry.db"
    old = os.umask(0)
    try:
        url = _init(db)
        registry = open_registry(url)
        try:
            registry.add_facilities([("VN-HN-001", "HN")], stamp=1)
            files = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}.lock")]
            assert all(p.exists() for p in files)
            assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
        finally:
            registry.close()
    finally:
        os.umask(old)


# -- item 7: a locked database --------------------------------------------------------------------


@contextlib.contextmanager
def _held_lock(db: Path) -> Iterator[None]:
    """A second connection (as the sqlite3 shell would) holding the write lock."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def test_locked_database_gives_a_clear_error(tmp_path: Path) -> None:
    """A write lock held by another connection: import and status stop after the busy timeout, exit 2, naming it."""
    db = tmp_path / "registry.db"
    url = _init(db)
    csv_file = write_csv(tmp_path / "d.csv", _rows(3))
    with _held_lock(db):
        r = run("registry", "--busy-timeout", "0.5", "import", "--db", url, "--quiet", *AT, str(csv_file))
        assert r.returncode == 2 and "locked by another process" in r.stderr and str(db) in r.stderr
        assert "--busy-timeout" in r.stderr
        r = run("registry", "--busy-timeout", "0.5", "status", "--db", url)
        assert r.returncode == 2 and "locked" in r.stderr
        with pytest.raises(StorageError, match="locked"):
            open_registry(url, busy_timeout=0.2).add_facilities([("VN-HN-001", "HN")], stamp=1)
    assert _count(db) == (0, "ok")
    r = run("registry", "import", "--db", url, "--quiet", *AT, str(csv_file))
    assert r.returncode == 0, r.stderr
    assert _count(db) == (3, "ok")


def test_default_busy_timeout_is_ten_seconds(tmp_path: Path) -> None:
    """Without --busy-timeout a write waits 10 s (not minutes), and the value reaches worker processes."""
    registry = open_registry(f"sqlite:///{tmp_path}/r.db", migrate=True)
    try:
        assert registry.spec.busy_timeout == 10.0
        assert open_registry(registry.spec).spec.busy_timeout == 10.0
        assert open_registry(f"sqlite:///{tmp_path}/r.db", busy_timeout=3).spec.busy_timeout == 3
    finally:
        registry.close()


def test_sqlite_commits_are_durable(tmp_path: Path) -> None:
    """Every connection (the CLI's, a worker's reopened from the spec) syncs the WAL at each commit:
    synchronous=FULL, so a stored import or certificate survives a power loss, not only a crash."""
    registry = open_registry(f"sqlite:///{tmp_path}/r.db", migrate=True)
    again = open_registry(registry.spec)
    try:
        for reg in (registry, again):
            with reg.transaction() as tx:
                assert tx.query("PRAGMA journal_mode")[0][0] == "wal"
                assert tx.query("PRAGMA synchronous")[0][0] == 2  # FULL (NORMAL is 1)
    finally:
        again.close()
        registry.close()


# -- item 8: read-only, full or unwritable database -------------------------------------------------


def _read_only_prefix() -> list[str]:
    """Run as this user without the root override of file permissions (root ignores a 0444 file)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a file read-only for the test")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"]


def test_read_only_database_gives_a_clear_error(tmp_path: Path) -> None:
    """A read-only registry (file 0444, then its folder too): writes exit 2 saying 'read-only'; data intact.

    Reading still works where SQLite can read a read-only file (``registry status``); where it cannot,
    status too gives the clear error, never a traceback.
    """
    folder = tmp_path / "reg"
    db = folder / "registry.db"
    url = _init(db)
    assert run("registry", "import", "--db", url, "--quiet", *AT, str(write_csv(tmp_path / "a.csv", _rows(2)))
               ).returncode == 0  # fmt: skip
    prefix = _read_only_prefix()
    more = write_csv(tmp_path / "b.csv", _rows(2, start=10))
    os.chmod(db, 0o444)
    try:
        status = _cli("registry", "status", "--db", url, prefix=prefix)
        assert status.returncode == 0 and "doses: 2" in status.stdout, status.stderr
        done = _cli("registry", "import", "--db", url, "--quiet", *AT, str(more), prefix=prefix)
        assert done.returncode == 2 and "read-only" in done.stderr and "Traceback" not in done.stderr, done.stderr
        for leftover in folder.glob("registry.db-*"):
            leftover.unlink()
        os.chmod(folder, 0o555)
        for args in (["registry", "status", "--db", url], ["registry", "import", "--db", url, "--quiet", *AT,
                                                              str(more)]):  # fmt: skip
            done = _cli(*args, prefix=prefix)
            assert done.returncode == 2 and "read-only" in done.stderr and "Traceback" not in done.stderr, done.stderr
    finally:
        os.chmod(folder, 0o755)
        os.chmod(db, 0o600)
    assert _count(db) == (2, "ok")


def test_unopenable_database_gives_a_clear_error(tmp_path: Path) -> None:
    """A registry path under a file (no folder can be made) is a clear error, exit 2."""
    (tmp_path / "file").write_text("x")
    done = _cli("registry", "init", "--db", f"sqlite:///{tmp_path}/file/sub/registry.db")
    assert done.returncode == 2 and "cannot open the SQLite registry" in done.stderr and "Traceback" not in done.stderr


@contextlib.contextmanager
def _tiny_tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True,
                          check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _full_disk_import(db: Path, *, preexec: object = None) -> None:
    url = f"sqlite:///{db}"
    first = write_csv(db.parent / "first.csv", _rows(5))
    assert _cli("registry", "import", "--db", url, "--quiet", *AT, str(first)).returncode == 0
    big = write_csv(db.parent.parent / "big.csv", _rows(6000, start=100))
    done = _cli("registry", "import", "--db", url, "--quiet", "--chunk", "6000", *AT, str(big), preexec=preexec)
    assert done.returncode == 2, done.stderr
    assert "disk full or write error" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert _count(db) == (5, "ok")  # the failed chunk rolled back; what was stored stays


def test_full_disk_tmpfs(tmp_path: Path) -> None:
    """A registry on a full (tiny tmpfs) disk: import exits 2 saying so; the data stored before is intact."""
    with _tiny_tmpfs(tmp_path / "small", "600k") as mount:
        url = f"sqlite:///{mount}/registry.db"
        assert _cli("registry", "init", "--db", url).returncode == 0
        _full_disk_import(mount / "registry.db")


def test_full_disk_file_size_limit(tmp_path: Path) -> None:
    """The same with a file-size limit (RLIMIT_FSIZE) on the importing process instead of a full disk."""
    db = tmp_path / "data" / "registry.db"
    db.parent.mkdir()
    assert _cli("registry", "init", "--db", f"sqlite:///{db}").returncode == 0
    limit = 400 * 1024

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    _full_disk_import(db, preexec=small_files)


# -- item 10: CSV fields over 128 KiB, lines over 1 MiB ----------------------------------------------


def test_csv_field_over_128k_rejects_the_row_and_goes_on(tmp_path: Path) -> None:
    """A field over the csv module's 128 KiB limit, and a line over 1 MiB, each cost one row; the rest import."""
    db = tmp_path / "registry.db"
    url = _init(db)
    path = tmp_path / "d.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(HEADER))
        writer.writeheader()
        writer.writerow(dose_row(1))
        writer.writerow({**dose_row(2), "family_name": "N" * (200 * 1024)})  # line 3: a 200 KiB field
        writer.writerow(dose_row(3))
        writer.writerow({**dose_row(4), "given_name": "x" * (2 * 1024 * 1024)})  # line 5: a 2 MiB line
        writer.writerow(dose_row(5))
    r = run("registry", "import", "--db", url, "--quiet", *AT, "--errors-out", str(tmp_path / "e.csv"), str(path))
    assert r.returncode == 1, r.stderr
    assert "3 new doses" in r.stdout and "2 rejected" in r.stdout
    errors = list(csv.reader((tmp_path / "e.csv").read_text(encoding="utf-8").splitlines()))
    assert [e[0] for e in errors[1:]] == ["3", "5"]
    assert "KiB" in errors[1][2] and "longer than 1024 KiB" in errors[2][2]
    assert _count(db) == (3, "ok")


def test_jsonl_line_over_1mib(tmp_path: Path) -> None:
    """A JSON line over 1 MiB is rejected without being read into memory whole; the next line imports."""
    url = _init(tmp_path / "registry.db")
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({**dose_row(1), "given_name": "y" * (3 * 1024 * 1024)}) + "\n" + json.dumps(dose_row(2))
                    + "\n", encoding="utf-8")  # fmt: skip
    r = run("registry", "import", "--db", url, "--quiet", *AT, str(path))
    assert r.returncode == 1 and "1 new doses" in r.stdout and "line 1: $: line longer than 1024 KiB" in r.stderr


# -- item 6: formula injection and echoed identity fields ------------------------------------------


def test_errors_out_is_formula_safe_and_echoes_no_identity(tmp_path: Path) -> None:
    """A header cell '=CMD()' and a file without a header (its first row: an ID, a name) are never echoed.

    A CSV header that is not a facility export's refuses the whole file (exit 2), naming unknown
    columns by position; in JSON lines an unknown key costs its row, named by position too.
    """
    url = _init(tmp_path / "registry.db")
    row = dose_row(7)
    hostile = tmp_path / "h.csv"
    hostile.write_text(",".join(HEADER) + ',=CMD("calc")\n' + ",".join(row[h] if h in row else "" for h in HEADER)
                       + ",x\n", encoding="utf-8")  # fmt: skip
    headerless = tmp_path / "n.csv"
    headerless.write_text(2 * (",".join(row[h] if h in row else "" for h in HEADER) + "\n"), encoding="utf-8")
    secrets = ("CMD", row["citizen_id"], "Nguy", "1990-04-12", "Văn")
    for source, column in ((hostile, "column 12"), (headerless, "column 1")):
        r = run("registry", "import", "--db", url, "--quiet", *AT, str(source))
        assert r.returncode == 2 and column in r.stderr, r.stderr
        assert not any(secret in r.stderr for secret in secrets), r.stderr
    lines = tmp_path / "j.jsonl"
    lines.write_text(json.dumps({**row, '=HYPERLINK("x")': row["citizen_id"]}) + "\n" + json.dumps(dose_row(8)) + "\n",
                     encoding="utf-8")  # fmt: skip
    out = tmp_path / "errors.csv"
    r = run("registry", "import", "--db", url, "--quiet", *AT, "--errors-out", str(out), str(lines))
    assert r.returncode == 1 and "1 new doses" in r.stdout
    text = out.read_text(encoding="utf-8")
    assert "1,column 10,unknown column" in text
    assert not any(secret in text + r.stderr for secret in (*secrets, "HYPERLINK"))
    cells = [c for line in csv.reader(text.splitlines()) for c in line]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    near = tmp_path / "t.csv"
    near.write_text(",".join(HEADER).replace("family_name", "famly_name") + "\n", encoding="utf-8")
    r = run("registry", "import", "--db", url, "--quiet", *AT, str(near))
    assert "column 4 (did you mean family_name?)" in r.stderr and "famly" not in r.stderr


def test_safe_cell_and_report_csv() -> None:
    """Cells starting with = + - @, tab or CR get an apostrophe; numbers and plain text are left alone."""
    assert [safe_cell(v) for v in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "VN-HN-001", 3, -3)] == [
        "'=1+1", "'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "VN-HN-001", 3, -3]  # fmt: skip
    rows = list(csv.reader(render([ReportRow("=HYPERLINK(\"x\")", "UNKNOWN")], "csv").splitlines()))
    assert rows[1][0] == "'=HYPERLINK(\"x\")"


# -- item 11: --chunk 100000 on PostgreSQL --------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_in_lists_longer_than_the_parameter_limit(backend: str, tmp_path: Path) -> None:
    """Looking up and marking 70,000 keys (over PostgreSQL's 65,535 parameters) works on both backends."""
    with fresh_registry(backend, tmp_path) as registry:
        keys = [f"cccd:{i:012d}" for i in range(70_000)]
        assert len(keys) > 65_535 > MAX_IN_LIST
        assert registry.person_identities(keys) == {}
        assert registry.dose_hashes(keys) == {}
        registry.mark_changed(keys, stamp=1)
        assert registry.doses_of(keys) == {}
        registry.replace_problems(keys, [], stamp=1)


@pytest.mark.postgres
@pytest.mark.slow
def test_import_chunk_100000_on_postgresql(tmp_path: Path) -> None:
    """The issue's reproduction: 'registry import --chunk 100000' of 66,000 people into PostgreSQL succeeds."""
    dsn = require_service("VAXCERT_PG_DSN")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    url = f"{dsn}?schema={schema}"
    path = write_csv(tmp_path / "big.csv", _rows(66_000))
    try:
        assert run("registry", "init", "--db", url).returncode == 0
        r = run("registry", "import", "--db", url, "--chunk", "100000", "--quiet", *AT, str(path))
        assert r.returncode == 0, r.stderr
        assert "66000 rows: 66000 new doses" in r.stdout
    finally:
        registry = open_registry(dsn, schema=schema)
        registry.drop_schema()  # type: ignore[attr-defined]
        registry.close()
