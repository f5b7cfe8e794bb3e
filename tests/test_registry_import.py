"""Importing facility exports, the population-register check, and reconciling doses across facilities."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry_support import NOW, dose_row, fresh_registry, register_rows, rows, scalar, write_csv
from vaxcert.cli._progress import Progress
from vaxcert.errors import InputError
from vaxcert.registry import Registry
from vaxcert.registry.identity import load_register, same_name
from vaxcert.registry.importer import import_file
from vaxcert.registry.reconciliation import merge_doses, reconcile
from vaxcert.registry.rows import StoredDose

REPO = Path(__file__).resolve().parents[1]
REGISTER_HEADER = ("citizen_id", "family_name", "given_name", "dob")
TABLES = ("persons", "doses", "facilities", "problems", "population_register")


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    """A fresh SQLite registry (the contract suite runs the shared behaviour on PostgreSQL too)."""
    with fresh_registry("sqlite", tmp_path) as reg:
        yield reg


def dump(registry: Registry) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the data tables, sorted."""
    return {t: sorted(rows(registry, f"SELECT * FROM {t}"), key=repr) for t in TABLES}


def test_bad_rows_reported_by_line_and_field_rest_kept(registry: Registry, tmp_path: Path) -> None:
    """Each bad row is reported with its line number and field; every good row is stored."""
    data = [
        dose_row(0, 1),
        {**dose_row(1, 1), "citizen_id": "12345"},            # line 3: too short
        {**dose_row(2, 1), "date": "2031-01-01"},             # line 4: in the future
        {**dose_row(3, 1), "product": "NOT-A-VACCINE"},       # line 5: unknown product
        {**dose_row(4, 1), "dose_number": "two"},             # line 6: not a number
        {**dose_row(5, 1), "family_name": ""},                # line 7: missing
        {**dose_row(6, 1), "dob": "1990-13-01"},              # line 8: bad birth date
        dose_row(7, 1),
    ]
    result = import_file(registry, write_csv(tmp_path / "x.csv", data), now=NOW)
    assert (result.rows, result.inserted, result.rejected) == (8, 2, 6)
    assert [(e.line, e.field) for e in result.errors] == [
        (3, "citizen_id"), (4, "date"), (5, "product"), (6, "dose_number"), (7, "family_name"), (8, "dob")]
    assert scalar(registry, "SELECT COUNT(*) FROM doses") == 2


def test_errors_carry_no_personal_data(registry: Registry, tmp_path: Path) -> None:
    """Rejection messages name fields, never the values (names, IDs, dates)."""
    data = [{**dose_row(0, 1), "dob": "1990-02-31", "family_name": "Phạm"}, {**dose_row(1, 1), "citizen_id": "0011"}]
    result = import_file(registry, write_csv(tmp_path / "x.csv", data), now=NOW)
    text = " ".join(str(e) for e in result.errors)
    for secret in ("Phạm", "1990-02-31", "0011", dose_row(1, 1)["citizen_id"]):
        assert secret not in text


def test_reimport_changes_nothing(registry: Registry, tmp_path: Path) -> None:
    """Importing the same file twice leaves every table exactly as after the first import."""
    data = [dose_row(i, d, facility=("VN-HN-001", "VN-SG-002")[d - 1]) for i in range(20) for d in (1, 2)]
    path = write_csv(tmp_path / "x.csv", data)
    import_file(registry, path, now=NOW)
    reconcile(registry, now=NOW)
    before = dump(registry)
    again = import_file(registry, path, now=NOW)
    reconcile(registry, now=NOW)
    assert (again.inserted, again.unchanged, again.rejected) == (0, 40, 0)
    assert dump(registry) == before


def test_changed_dose_or_identity_is_rejected_not_overwritten(registry: Registry, tmp_path: Path) -> None:
    """A re-export with a different product, or a known person with another name, is refused."""
    import_file(registry, write_csv(tmp_path / "a.csv", [dose_row(0, 1), dose_row(1, 1)]), now=NOW)
    changed = [{**dose_row(0, 1), "product": "EU/1/20/1507"}, {**dose_row(1, 2), "family_name": "Lê"}]
    result = import_file(registry, write_csv(tmp_path / "b.csv", changed), now=NOW)
    assert [(e.line, e.field) for e in result.errors] == [(2, "product"), (3, "family_name")]
    assert rows(registry, "SELECT mp FROM doses") == [("EU/1/20/1528",), ("EU/1/20/1528",)]


def test_jsonl_rows_and_dose_records(registry: Registry, tmp_path: Path) -> None:
    """JSON lines may hold flat rows or whole dose records (the examples); bad JSON is a reported row."""
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((REPO / "examples/records").glob("*.json"))]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    lines.insert(1, "{not json")
    lines.append(json.dumps({**dose_row(0, 1), "dose_number": 1}))
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = import_file(registry, path, now=NOW)
    doses = sum(len(r["doses"]) for r in records) + 1
    assert (result.inserted, result.rejected) == (doses, 1)
    assert (result.errors[0].line, result.errors[0].field) == (2, "$")
    passport = [r for r in records if r["person"]["identity"]["type"] == "passport"]
    assert scalar(registry, "SELECT COUNT(*) FROM persons WHERE id_kind = 'passport'") == len(passport)


def test_dose_record_keeps_its_icao_names(registry: Registry, tmp_path: Path) -> None:
    """A dose record's machine-readable name (copied from a passport's MRZ) is what the registry
    stores and certifies, not the transliteration of the printed name."""
    record = json.loads((REPO / "examples/records/06-foreigner-passport.json").read_text(encoding="utf-8"))
    record["person"]["name"] |= {"family_icao": "MULLER", "given_icao": "JORG<ANDRE"}  # ICAO would write MUELLER
    record["person"]["name"] |= {"family": "Müller", "given": "Jörg André"}
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    result = import_file(registry, path, now=NOW)
    assert result.rejected == 0 and result.inserted == len(record["doses"])
    assert rows(registry, "SELECT fn, fnt, gn, gnt FROM persons") == [("Müller", "MULLER", "Jörg André", "JORG<ANDRE")]


@pytest.mark.parametrize("cell", ["²", "1²", "٣", "①"])
def test_dose_number_in_other_digits_is_a_reported_row(registry: Registry, tmp_path: Path, cell: str) -> None:
    """'²' is a digit to str.isdigit but not to int(): the row is rejected naming the column, not a crash."""
    data = [{**dose_row(0, 1), "dose_number": cell}, dose_row(1, 1)]
    result = import_file(registry, write_csv(tmp_path / "x.csv", data), now=NOW)
    assert (result.inserted, result.rejected) == (1, 1)
    assert [(e.line, e.field, e.message) for e in result.errors] == [(2, "dose_number", "must be a whole number")]


def test_rows_are_checked_one_chunk_ahead_and_a_reader_error_arrives_in_order(registry: Registry) -> None:
    """The thread that reads and checks rows ahead hands a reader's error over after the chunks
    before it were stored, and stops; nothing after the error is read."""
    from vaxcert.registry.importer import import_rows

    pulled: list[int] = []

    def reader() -> Iterator[tuple[int, dict[str, str] | InputError]]:
        for i in range(5):
            pulled.append(i)
            yield i + 2, dose_row(i, 1)
        raise InputError("file", "is not readable any more")

    with pytest.raises(InputError, match="not readable any more"):
        import_rows(registry, reader(), now=NOW, chunk_size=2)
    assert scalar(registry, "SELECT COUNT(*) FROM doses") == 4  # two chunks of two; the fifth row's chunk never ends
    assert pulled == [0, 1, 2, 3, 4]
    assert not [t for t in threading.enumerate() if t.name == "vaxcert-import-check"]


def test_a_storage_error_stops_the_reading_thread(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """When storing a chunk fails, the import stops with that error, and the thread reading ahead
    stops too: at most two more chunks are read, never the rest of a large file."""
    from vaxcert.errors import StorageError
    from vaxcert.registry import importer

    pulled: list[int] = []

    def reader() -> Iterator[tuple[int, dict[str, str] | InputError]]:
        for i in range(10_000):
            pulled.append(i)
            yield i + 2, dose_row(i, 1)

    def failing(*args: object, **kwargs: object) -> None:
        raise StorageError("the SQLite registry is read-only")

    monkeypatch.setattr(importer, "_store_chunk", failing)
    with pytest.raises(StorageError, match="read-only"):
        importer.import_rows(registry, reader(), now=NOW, chunk_size=10)
    assert len(pulled) <= 30
    assert not [t for t in threading.enumerate() if t.name == "vaxcert-import-check"]


@pytest.fixture
def in_child(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every import reads and checks its rows in a forked child (as files over 1 MiB do from the CLI);
    the list gathers each child used, so a test can tell the child path really ran."""
    from vaxcert.registry import importer

    used: list[object] = []
    real = importer._CheckedInChild.__enter__

    def enter(self: importer._CheckedInChild) -> Iterator[object]:
        used.append(self)
        return real(self)

    monkeypatch.setattr(importer, "CHILD_MIN_BYTES", 0)
    monkeypatch.setattr(importer, "_can_fork", lambda: True)  # pytest may run a thread of its own
    monkeypatch.setattr(importer._CheckedInChild, "__enter__", enter)
    return used


def test_rows_checked_in_a_child_process_give_what_the_thread_gives(tmp_path: Path, in_child: list[object]) -> None:
    """The same file, with good, bad, repeated and conflicting rows over several chunks, gives the same
    result and the same stored rows whether it is checked in a child process or in a thread."""
    from vaxcert.registry import importer

    data = [dose_row(i % 40, 1 + i // 40) for i in range(80)]
    data[3] = {**data[3], "citizen_id": "12345"}
    data[50] = {**data[50], "date": "2031-01-01"}
    data.append(dose_row(7, 1))  # the same dose again: unchanged
    data.append({**dose_row(8, 1), "dob": "1970-01-01"})  # a known person with another birth date
    path = write_csv(tmp_path / "x.csv", data)
    results, dumps = [], []
    for child, name in ((True, "child"), (False, "thread")):
        with fresh_registry("sqlite", tmp_path / name) as reg:
            if not child:
                importer.CHILD_MIN_BYTES = 1 << 40  # the fixture's monkeypatch restores it
            result = import_file(reg, path, now=NOW, chunk_size=16)
            results.append((result.rows, result.inserted, result.unchanged, result.rejected, result.new_persons,
                            [(e.line, e.field, e.message) for e in result.errors]))  # fmt: skip
            dumps.append(dump(reg))
    assert len(in_child) == 1
    assert results[0] == results[1] and results[0][:4] == (82, 78, 1, 3)
    assert dumps[0] == dumps[1]


def test_a_child_process_hands_over_a_reader_error_in_order(registry: Registry, in_child: list[object]) -> None:
    """A reader's error reaches the importer after the chunks before it were stored, as with the thread,
    and the child process has ended."""
    import multiprocessing

    from vaxcert.registry.importer import import_rows

    def reader() -> Iterator[tuple[int, dict[str, str] | InputError]]:
        for i in range(5):
            yield i + 2, dose_row(i, 1)
        raise InputError("file", "is not readable any more")

    with pytest.raises(InputError, match="not readable any more"):
        import_rows(registry, reader(), now=NOW, chunk_size=2, in_child=True)
    assert len(in_child) == 1
    assert scalar(registry, "SELECT COUNT(*) FROM doses") == 4
    assert not multiprocessing.active_children()


def test_a_storage_error_ends_the_child_process(registry: Registry, in_child: list[object],
                                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """When storing a chunk fails, the import stops with that error and the child stops reading: by
    itself or at the parent's SIGTERM, even in a process whose SIGTERM handler only asks to stop
    (`vaxcert registry worker`'s), and never only at the SIGKILL of last resort."""
    import multiprocessing
    import signal

    from vaxcert.errors import StorageError
    from vaxcert.registry import importer

    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    monkeypatch.setattr(importer, "_spare_core", lambda: True)

    def reader() -> Iterator[tuple[int, dict[str, str] | InputError]]:
        for i in range(1_000_000):
            yield i + 2, dose_row(i, 1)

    def failing(*args: object, **kwargs: object) -> None:
        raise StorageError("the SQLite registry is read-only")

    monkeypatch.setattr(importer, "_store_chunk", failing)
    try:
        with pytest.raises(StorageError, match="read-only"):  # chunks of 500 rows fill the pipe at once
            importer.import_rows(registry, reader(), now=NOW, chunk_size=500, in_child=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert len(in_child) == 1 and not multiprocessing.active_children()
    assert in_child[0]._process.exitcode in (0, -signal.SIGTERM)  # type: ignore[attr-defined]


def test_a_child_process_that_dies_is_a_clear_error(registry: Registry, in_child: list[object]) -> None:
    """A child killed mid-file (out of memory, a signal) stops the import with an error saying what
    happened and what to do; the chunks before it stay stored."""
    import os
    import signal

    from vaxcert.errors import VaxcertError
    from vaxcert.registry.importer import import_rows

    def reader() -> Iterator[tuple[int, dict[str, str] | InputError]]:
        for i in range(4):
            yield i + 2, dose_row(i, 1)
        os.kill(os.getpid(), signal.SIGKILL)  # runs in the child: the parent never consumes this reader
        yield 6, dose_row(4, 1)

    with pytest.raises(VaxcertError, match=r"stopped \(exit code -9\).*import the file again"):
        import_rows(registry, reader(), now=NOW, chunk_size=2, in_child=True)
    assert scalar(registry, "SELECT COUNT(*) FROM doses") == 4


def test_progress_comes_from_the_child_process(registry: Registry, tmp_path: Path, in_child: list[object]) -> None:
    """Progress counts the bytes the child has read: rising, ending at the file's size."""
    reports: list[tuple[float, float | None]] = []
    path = write_csv(tmp_path / "big.csv", [dose_row(i, 1) for i in range(230)])
    result = import_file(registry, path, now=NOW, chunk_size=50, progress=lambda d, t: reports.append((d, t)))
    size = path.stat().st_size
    assert len(in_child) == 1 and result.inserted == 230
    assert len(reports) == 5 and reports[-1] == (size, size)
    assert [d for d, _ in reports] == sorted({d for d, _ in reports}) and reports[0][0] > 0


def test_the_child_process_writes_nothing_of_the_parents(tmp_path: Path) -> None:
    """From a plain script: the rows are checked in a child, and output the parent had buffered
    before the fork reaches the terminal once (not again when the child ends), with nothing on
    standard error."""
    import subprocess
    import sys

    path = write_csv(tmp_path / "x.csv", [dose_row(i, 1) for i in range(30)])
    script = f"""
import datetime as dt
from vaxcert.registry import importer, open_registry
importer.CHILD_MIN_BYTES = 0
used = []
enter = importer._CheckedInChild.__enter__
importer._CheckedInChild.__enter__ = lambda self: used.append(self) or enter(self)
print("buffered before the import")
registry = open_registry("sqlite:///{tmp_path}/r.db", migrate=True)
result = importer.import_file(registry, "{path}", now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC), chunk_size=7)
print("inserted", result.inserted, "in a child" if used else "in a thread")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["buffered before the import", "inserted 30 in a child"]
    assert done.stderr == ""


def test_rows_are_checked_in_a_thread_where_forking_is_not_safe() -> None:
    """A process running another thread (the service) never forks for an import."""
    from vaxcert.registry import importer

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not importer._can_fork()
    finally:
        stop.set()
        thread.join()


def test_input_errors_survive_pickling() -> None:
    """An InputError keeps its field and message across processes."""
    import pickle

    copy = pickle.loads(pickle.dumps(InputError("file", "is empty")))
    assert (type(copy), copy.field, copy.message, str(copy)) == (InputError, "file", "is empty", "file: is empty")


def test_streams_in_chunks_with_progress(registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file larger than a chunk is imported chunk by chunk, reporting progress (drawn by the CLI's bar)."""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    bar = Progress("import big.csv", unit="bytes", stream=terminal)
    reports: list[tuple[float, float | None]] = []

    def progress(done: float, total: float | None) -> None:
        reports.append((done, total))
        bar.report(done, total)

    calls: list[int] = []
    data = [dose_row(i, 1) for i in range(230)]
    from vaxcert.registry import importer

    real = importer._store_chunk

    def counting(*args: object, **kwargs: object) -> None:
        calls.append(len(args[1]))  # type: ignore[arg-type]
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importer, "_store_chunk", counting)
    path = write_csv(tmp_path / "big.csv", data)
    result = import_file(registry, path, now=NOW, chunk_size=50, progress=progress)
    bar.close(f"import big.csv: {result.summary()}")
    assert result.inserted == 230 and calls == [50, 50, 50, 50, 30]
    size = path.stat().st_size
    assert len(reports) == 5 and reports[-1] == (size, size) and all(t == size for _, t in reports)
    err = terminal.getvalue()
    assert "import big.csv [" in err and "230 new doses" in err


def test_same_person_across_facilities_is_merged(registry: Registry, tmp_path: Path) -> None:
    """Doses of one citizen from two facilities give one person with both doses; the last facility signs."""
    for name, row in (("a.csv", dose_row(0, 1, facility="VN-HN-001")), ("b.csv", dose_row(0, 2, facility="VN-HP-003"))):
        import_file(registry, write_csv(tmp_path / name, [row]), now=NOW)
    reconcile(registry, now=NOW)
    assert rows(registry, "SELECT doses, complete, booster, last_facility, dn FROM persons") == [
        (2, 1, 0, "VN-HP-003", 2)]


def fact(key: str, dn: int, sd: int, date: str, facility: str = "VN-HN-001", mp: str = "EU/1/20/1528") -> StoredDose:
    """A dose as reconciliation sees it."""
    return StoredDose(key, facility, dn, sd, date, "840539006", "1119349007", mp, "ORG-100030215", "VN")


def test_merge_detects_every_conflict_kind() -> None:
    """Duplicates are merged; same-day doses, repeated numbers, disorder and dn > sd are reported."""
    _, problems, status = merge_doses([fact("a", 1, 2, "2021-07-01"), fact("b", 1, 2, "2021-07-01", "VN-SG-002")])
    assert [p.kind for p in problems] == ["duplicate_dose"] and not problems[0].blocking
    assert (status.doses, status.complete) == (1, False)
    cases = {
        "conflicting_duplicate": [fact("a", 1, 2, "2021-07-01"), fact("b", 1, 2, "2021-07-01", mp="EU/1/20/1507")],
        "two_doses_one_day": [fact("a", 1, 2, "2021-07-01"), fact("b", 2, 2, "2021-07-01")],
        "dose_number_repeated": [fact("a", 1, 2, "2021-07-01"), fact("b", 1, 2, "2021-08-01")],
        "out_of_order": [fact("a", 2, 2, "2021-07-01"), fact("b", 1, 2, "2021-08-01")],
        "dn_over_sd": [fact("a", 3, 2, "2021-07-01")],
    }
    for kind, doses in cases.items():
        _, problems, _ = merge_doses(doses)
        assert kind in [p.kind for p in problems if p.blocking], kind


def test_status_complete_partial_booster() -> None:
    """Complete when dn reaches sd; booster when a series was complete before the last dose."""
    one = merge_doses([fact("a", 1, 2, "2021-07-01")])[2]
    assert (one.complete, one.booster) == (False, False)
    two = merge_doses([fact("a", 1, 2, "2021-07-01"), fact("b", 2, 2, "2021-08-01")])[2]
    assert (two.complete, two.booster) == (True, False)
    three = [fact("a", 1, 2, "2021-07-01"), fact("b", 2, 2, "2021-08-01"), fact("c", 3, 3, "2022-01-01")]
    status = merge_doses(three)[2]
    assert (status.doses, status.complete, status.booster, status.last.key) == (3, True, True, "c")  # type: ignore[union-attr]
    janssen = [fact("a", 1, 1, "2021-07-01"), fact("b", 2, 2, "2021-12-01")]
    assert merge_doses(janssen)[2].booster


def test_reconcile_records_problems_and_holds(registry: Registry, tmp_path: Path) -> None:
    """Conflicts are stored in problems and hold the person; a duplicate from two facilities does not."""
    data = [dose_row(0, 1, facility="VN-HN-001", date="2021-07-01"), dose_row(0, 1, facility="VN-SG-002",
            date="2021-07-01"), dose_row(1, 1, date="2021-07-01"), dose_row(1, 2, date="2021-07-01")]  # fmt: skip
    import_file(registry, write_csv(tmp_path / "a.csv", data), now=NOW)
    write_csv(tmp_path / "r.csv", register_rows(data), header=REGISTER_HEADER)
    load_register(registry, tmp_path / "r.csv", now=NOW)
    result = reconcile(registry, now=NOW)
    assert (result.ready, result.held_conflict) == (1, 1)
    assert sorted(rows(registry, "SELECT kind, blocking FROM problems")) == [("duplicate_dose", 0),
                                                                           ("two_doses_one_day", 1)]  # fmt: skip
    assert scalar(registry, "SELECT state_reason FROM persons WHERE state = 'held_conflict'") == "two_doses_one_day"


def test_identity_check_against_the_register(registry: Registry, tmp_path: Path) -> None:
    """Citizens missing from the register or differing in name or birth date are held; foreigners skip it."""
    people = [dose_row(0, 1), dose_row(1, 1), dose_row(2, 1), dose_row(3, 1, family="NGUYỄN  văn", given="")]
    foreigner = {"passport_number": "C1234567", "nationality": "FR", "family_name": "Lefèvre", "given_name": "Céline",
                 "dob": "1988-04-09", "facility": "VN-HN-015", "dose_number": "1", "series_total": "2",
                 "date": "2021-10-18", "product": "EU/1/20/1528"}  # fmt: skip
    import_file(registry, write_csv(tmp_path / "a.csv", [*people, foreigner]), now=NOW)
    register = register_rows(
        [people[0], {**people[1], "given_name": "Văn Minh"}, {**people[3], "family_name": "Nguyễn Văn"}])
    register.append({"citizen_id": people[2]["citizen_id"], "family_name": "Nguyễn", "given_name": "Văn Đức",
                     "dob": "1990-05-12"})  # fmt: skip
    write_csv(tmp_path / "r.csv", register, header=REGISTER_HEADER)
    assert load_register(registry, tmp_path / "r.csv", now=NOW).loaded == 4
    reconcile(registry, now=NOW)
    got = dict(rows(registry, "SELECT id_number, COALESCE(state_reason, state) FROM persons"))
    assert got == {
        people[0]["citizen_id"]: "ready",
        people[1]["citizen_id"]: "name does not match the population register",
        people[2]["citizen_id"]: "birth date does not match the population register",
        people[3]["citizen_id"]: "ready",
        "C1234567": "ready",
    }


def test_same_name_is_strict_about_diacritics() -> None:
    """Case and spacing are forgiven; diacritics are part of the name."""
    assert same_name("NGUYỄN  Văn", "Nguyễn Văn")
    assert not same_name("Nguyen Van", "Nguyễn Văn")


def test_register_rows_validated(registry: Registry, tmp_path: Path) -> None:
    """Malformed register rows are reported by line and field and skipped."""
    write_csv(tmp_path / "r.csv", [{"citizen_id": "1", "family_name": "A", "dob": "1990"},
                                   {"citizen_id": "001090000001", "family_name": "", "dob": "1990"}],
              header=REGISTER_HEADER)  # fmt: skip
    result = load_register(registry, tmp_path / "r.csv", now=NOW)
    assert result.loaded == 0 and [(e.line, e.field) for e in result.errors or []] == [(2, "citizen_id"),
                                                                                        (3, "family_name")]
    assert (result.rows, result.rejected) == (2, 2)


_CELLS = st.sampled_from(["", " ", "Nguyễn", "Nguye\u0302\u0303n", "Văn  Đức", "O'Brien", "Σοφία", "Ж", "9", "x\u0301",
                          "1990", "1990-02", "1990-02-30", "2099-01-01", "2021-08-10", "2019-12-31", "0", "1", "2", "3",
                          "1.0", "EU/1/20/1528", "EU/1/21/1529", "Sputnik-V", "ZZZ", "VN", "FR", "vn", "ORG-100030215",
                          "29061000087103", "840539006", "VN-HN-001", "vn-hn-001", "001090000001",
                          "079190000001", "1234567", "9" * 5000])  # fmt: skip


@given(st.integers(0, 10_000), st.dictionaries(st.sampled_from(["family_name", "given_name", "dob", "facility",
       "dose_number", "series_total", "date", "product", "manufacturer", "prophylaxis", "country", "disease",
       "nationality", "citizen_id"]), _CELLS | st.text(max_size=12), max_size=4))  # fmt: skip
def test_quick_row_path_matches_the_checked_path(i: int, changes: dict[str, str]) -> None:
    """The quick single pass of an import row gives the checked path's row, or leaves the row to it."""
    from vaxcert.registry import importer

    obj = {k: v for k, v in (dose_row(i) | changes).items() if v.strip()}
    try:
        person, dose = importer._person_from_row(obj), importer._dose_from_row(obj)
    except InputError:
        return
    quick = importer._quick_parts(person, dose, NOW)
    original = importer._quick_parts
    importer._quick_parts = lambda *args: None  # type: ignore[assignment]
    try:
        checked: object = importer._validated(7, person, dose, NOW)
    except InputError as exc:
        checked = exc
    finally:
        importer._quick_parts = original
    if not changes:  # an ordinary row takes the quick path
        assert quick is not None
    if quick is not None:
        assert isinstance(checked, importer.DoseRow)
        assert importer._validated(7, person, dose, NOW) == checked


@given(st.lists(st.none() | st.integers(-10**20, 10**20) | st.text(max_size=20), max_size=14))
def test_row_hash_text_is_json_dumps(values: list[str | int | None]) -> None:
    """The row hash's JSON text is exactly json.dumps(ensure_ascii=False) (stored hashes stay valid)."""
    from vaxcert.registry.importer import _json_array

    assert _json_array(values) == json.dumps(values, ensure_ascii=False)


@given(st.integers(0, 10_000), st.dictionaries(st.sampled_from(["family_name", "given_name", "dob", "facility",
       "dose_number", "series_total", "date", "product", "manufacturer", "prophylaxis", "country", "disease",
       "nationality", "citizen_id", "passport_number"]), _CELLS | st.text(max_size=12), max_size=4),
       st.sampled_from([None, "date", "product", "dob"]))  # fmt: skip
def test_quick_row_is_the_checked_rows_reading(i: int, changes: dict[str, str], drop: str | None) -> None:
    """A flat row read in one quick pass gives exactly parse_row's checked reading, or is left to it."""
    from vaxcert.registry import importer

    obj = {k: v for k, v in (dose_row(i) | changes).items() if k != drop}
    quick = importer._quick_row(5, obj, NOW)
    original = importer._quick_row
    importer._quick_row = lambda *args: None  # type: ignore[assignment]
    try:
        checked: object = importer.parse_row(5, obj, now=NOW)
    except InputError as exc:
        checked = exc
    finally:
        importer._quick_row = original
    if not changes and drop is None:  # an ordinary row takes the quick path
        assert quick is not None
    if quick is not None:
        assert checked == [quick]
        assert isinstance(checked, list)
        # the quick row's hash, made from remembered JSON of the dose's values, is the hash of its values
        assert quick.row_hash == importer.row_hash_of(checked[0].person, checked[0].dose)
