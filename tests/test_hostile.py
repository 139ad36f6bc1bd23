"""Hostile inputs: every case ends in the right exit code and one clear line, in bounded memory, with the user's
existing file untouched.

Each command runs in a child process under an address-space limit (``RLIMIT_AS``), so a case that would grow
without bound fails the test instead of the machine. Files are generated here, not stored.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.formula import ArrayFormula

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "win32",
                                reason="resource limits and signals are POSIX")

#: Address space a command may use: Python, numpy, lxml, formualizer and formulas loaded take about 0.4 GB of it.
MEMORY_LIMIT_BYTES = 1 << 30

_RUNNER = """
import resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from buildbuy.workbook.cli import main
sys.exit(main(sys.argv[2:]))
"""


def run(*args: str | Path, limit: int = MEMORY_LIMIT_BYTES, timeout: float = 120) -> subprocess.CompletedProcess:
    """``buildbuy *args`` in a child process with an address-space limit."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", RAYON_NUM_THREADS="2",
               TQDM_DISABLE="1", PYTHONWARNINGS="default")
    env.pop("BUILDBUY_DEBUG", None)
    return subprocess.run([sys.executable, "-c", _RUNNER, str(limit), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env)


def one_line_error(res: subprocess.CompletedProcess, command: str, *needles: str, code: int = 2) -> str:
    """Assert exit ``code`` and exactly one stderr line ``buildbuy <command>: error: ...`` holding ``needles``."""
    err = res.stderr
    assert res.returncode == code, (res.returncode, err[-2000:])
    assert "Traceback" not in err and "Warning" not in err, err[-2000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1, err[-2000:]
    assert lines[0].startswith(f"buildbuy {command}: error: "), lines[0]
    assert len(lines[0]) <= 520, len(lines[0])
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# ------------------------------------------------------------------------------------------- generated files
def small_book(path: Path) -> Path:
    """A small workbook with values, native formulas, a BVB call and a defined name."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    ws["A1"], ws["A2"], ws["A3"] = 2, 3, 7
    ws["B1"] = "=SUM(A1:A3)"
    ws["B2"] = "=BVB_API_COST(50000,400,100,10,10)"
    ws["B3"] = "=B1*2"
    wb.save(path)
    return path


def rezip(src: Path, dst: Path, replace: dict[str, bytes] | None = None, drop: tuple[str, ...] = (),
          add: dict[str, bytes] | None = None) -> Path:
    """A copy of a package with some parts replaced, dropped or added."""
    replace = replace or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def with_dtd(xml: bytes, prolog: bytes = b"") -> bytes:
    """An XML part with a billion-laughs DTD inserted after its declaration (and an optional long prolog)."""
    decl_end = xml.index(b"?>") + 2 if xml.startswith(b"<?xml") else 0
    lol = (b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
           b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>')
    return xml[:decl_end] + prolog + lol + xml[decl_end:]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return small_book(tmp_path / "book.xlsx")


# ------------------------------------------------------------------------------------------- broken files
def test_not_a_zip(tmp_path):
    path = tmp_path / "noise.xlsx"
    path.write_bytes(os.urandom(4096))
    before = path.read_bytes()
    one_line_error(run("recalc", path), "recalc", "noise.xlsx", "not a zip package")
    assert path.read_bytes() == before


@pytest.mark.parametrize("keep", [0, 22, 0.5])
def test_empty_or_truncated(book, keep):
    data = book.read_bytes()
    cut = data[:int(len(data) * keep)] if isinstance(keep, float) else data[:keep]
    book.write_bytes(cut)
    line = one_line_error(run("recalc", book), "recalc", "book.xlsx")
    assert "zip" in line
    assert book.read_bytes() == cut


def test_legacy_xls_and_password_protected_books_are_named(tmp_path):
    # Both are OLE compound files: the 8-byte signature, then a sector of anything.
    path = tmp_path / "secret.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    one_line_error(run("recalc", path), "recalc", "secret.xlsx", "password-protected", ".xls")


def test_opendocument_is_named(tmp_path):
    path = tmp_path / "sheet.ods"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
    one_line_error(run("recalc", path), "recalc", "sheet.ods", "OpenDocument", "save it as .xlsx")


def test_encrypted_zip_entry(book, tmp_path):
    data = bytearray(book.read_bytes())
    # Set the 'encrypted' flag bit on every central-directory entry.
    i = data.find(b"PK\x01\x02")
    while i >= 0:
        flags = struct.unpack_from("<H", data, i + 8)[0]
        struct.pack_into("<H", data, i + 8, flags | 1)
        i = data.find(b"PK\x01\x02", i + 4)
    book.write_bytes(bytes(data))
    one_line_error(run("recalc", book), "recalc", "encrypted zip entries")


def test_missing_content_types_is_named(book, tmp_path):
    bad = rezip(book, tmp_path / "noct.xlsx", drop=("[Content_Types].xml",))
    one_line_error(run("recalc", bad), "recalc", "noct.xlsx", "no [Content_Types].xml")


def test_missing_workbook_part(book, tmp_path):
    bad = rezip(book, tmp_path / "nowb.xlsx", drop=("xl/workbook.xml",))
    one_line_error(run("recalc", bad), "recalc", "no xl/workbook.xml")


@pytest.mark.parametrize("part, needle", [("xl/_rels/workbook.xml.rels", "no xl/_rels/workbook.xml.rels"),
                                          ("xl/worksheets/sheet1.xml", "sheet 'Data' points at")])
def test_missing_relationships_or_sheets_are_named(book, tmp_path, part, needle):
    bad = rezip(book, tmp_path / "damaged.xlsx", drop=(part,))
    for command in ("recalc", "lint"):
        one_line_error(run(command, bad), command, "damaged.xlsx", "damaged package", needle)


def test_broken_xml(book, tmp_path):
    bad = rezip(book, tmp_path / "broken.xlsx", replace={"xl/worksheets/sheet1.xml": b"<worksheet><sheetData>"})
    before = bad.read_bytes()
    one_line_error(run("recalc", bad), "recalc", "broken.xlsx", "sheet1.xml", "broken XML")
    assert bad.read_bytes() == before


# ------------------------------------------------------------------------------------------- entities
def _parts(book: Path) -> list[str]:
    with zipfile.ZipFile(book) as z:
        return [n for n in z.namelist() if n.endswith((".xml", ".rels"))]


def test_every_part_is_covered(book):
    assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/styles.xml",
            "xl/worksheets/sheet1.xml"} <= set(_parts(small_book(book)))


@pytest.mark.parametrize("part", ["[Content_Types].xml", "_rels/.rels", "docProps/app.xml", "docProps/core.xml",
                                  "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
                                  "xl/theme/theme1.xml", "xl/worksheets/sheet1.xml"])
def test_dtd_in_any_part_is_refused(book, tmp_path, part):
    assert part in _parts(book)
    with zipfile.ZipFile(book) as z:
        xml = z.read(part)
    bad = rezip(book, tmp_path / "dtd.xlsx", replace={part: with_dtd(xml)})
    before = bad.read_bytes()
    one_line_error(run("recalc", bad), "recalc", "dtd.xlsx", part, "DTD")
    assert bad.read_bytes() == before


def test_dtd_after_a_long_prolog_and_in_utf16(book, tmp_path):
    with zipfile.ZipFile(book) as z:
        styles, sheet = z.read("xl/styles.xml"), z.read("xl/worksheets/sheet1.xml")
    long_prolog = b"<!--" + b"x" * 100_000 + b"-->\n"
    bad = rezip(book, tmp_path / "a.xlsx", replace={"xl/styles.xml": with_dtd(styles, long_prolog)})
    one_line_error(run("recalc", bad), "recalc", "styles.xml", "DTD")
    utf16 = with_dtd(sheet).decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    bad = rezip(book, tmp_path / "b.xlsx", replace={"xl/worksheets/sheet1.xml": utf16.encode("utf-16")})
    one_line_error(run("recalc", bad), "recalc", "sheet1.xml", "DTD")


# ------------------------------------------------------------------------------------------- zip bombs
def _bomb_part(size: int) -> bytes:
    """``size`` bytes of one repeated XML-ish byte, deflated in chunks (never held inflated)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b" " * (1 << 20)
    out = [comp.compress(chunk) for _ in range(size >> 20)]
    out.append(comp.flush())
    return b"".join(out)


def _raw_zip(path: Path, entries: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip written by hand: (name, deflated data, crc, declared inflated size) per entry, so a header may lie."""
    local, central, offset = [], [], 0
    for name, data, crc, size in entries:
        n = name.encode()
        head = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), size, len(n), 0) + n
        local.append(head + data)
        central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(data),
                                   size, len(n), 0, 0, 0, 0, 0, offset) + n)
        offset += len(head) + len(data)
    cd = b"".join(central)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(cd), offset, 0)
    path.write_bytes(b"".join(local) + cd + end)
    return path


def _deflate(data: bytes) -> bytes:
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush()


def _valid_entries(book: Path) -> list[tuple[str, bytes, int, int]]:
    with zipfile.ZipFile(book) as z:
        return [(n, _deflate(z.read(n)), zlib.crc32(z.read(n)), len(z.read(n))) for n in z.namelist()]


def test_zip_bomb_part_is_refused_from_its_header(book, tmp_path):
    size = 300 << 20
    bomb = _bomb_part(size)
    entries = _valid_entries(book) + [("xl/media/bomb.xml", bomb, 0, size)]
    path = _raw_zip(tmp_path / "bomb.xlsx", entries)
    assert path.stat().st_size < 2 << 20
    one_line_error(run("recalc", path), "recalc", "bomb.xlsx")


def test_lying_size_header_is_caught_while_inflating(book, tmp_path):
    # 200 MB of spaces, declared as 1 KB: inflation stops at the declared size and the CRC check fails.
    size = 200 << 20
    entries = _valid_entries(book) + [("xl/media/liar.bin", _bomb_part(size), 0, 1024)]
    path = _raw_zip(tmp_path / "liar.xlsx", entries)
    before = path.read_bytes()
    one_line_error(run("recalc", path), "recalc", "liar.bin")
    assert path.read_bytes() == before


def test_many_large_parts_inflating_past_the_budget(book, tmp_path, monkeypatch):
    # Each part stays under the per-part ratio rule (< 10 MB), together they pass 1 GiB: refused, bounded.
    size = 9 << 20
    bomb = _bomb_part(size)
    crc = 0
    entries = _valid_entries(book) + [(f"xl/media/p{i}.bin", bomb, crc, size) for i in range(125)]
    path = _raw_zip(tmp_path / "many.xlsx", entries)
    one_line_error(run("recalc", path), "recalc", "many.xlsx", "inflates to")


# ------------------------------------------------------------------------------------------- output paths
def test_output_onto_a_device_a_pipe_or_a_folder_is_refused(book, tmp_path):
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    one_line_error(run("recalc", book, "-o", fifo), "recalc", "pipe.xlsx", "named pipe", "not a regular file")
    assert fifo.is_fifo()
    one_line_error(run("recalc", book, "-o", "/dev/null"), "recalc", "/dev/null", "device")
    assert Path("/dev/null").is_char_device()
    (tmp_path / "dir.xlsx").mkdir()
    one_line_error(run("recalc", book, "-o", tmp_path / "dir.xlsx"), "recalc", "dir.xlsx", "folder")
    one_line_error(run("recalc", fifo), "recalc", "pipe.xlsx", "not a regular file")


def test_in_place_recalc_of_a_symlink_updates_its_target(book, tmp_path):
    link = tmp_path / "link.xlsx"
    link.symlink_to(book.name)
    res = run("recalc", link)
    assert res.returncode == 0, res.stderr
    assert link.is_symlink() and os.readlink(link) == book.name
    ws = load_workbook(book, data_only=True)["Data"]
    assert ws["B1"].value == 12 and ws["B3"].value == 24  # 2 + 3 + 7; twice that
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "link.xlsx"]


def test_write_error_names_the_users_file_not_the_temporary_one(book, tmp_path):
    missing = tmp_path / "nowhere" / "out.xlsx"
    line = one_line_error(run("recalc", book, "-o", missing), "recalc", "out.xlsx", "does not exist")
    assert ".tmp" not in line


# ------------------------------------------------------------------------------------------- fill
def _scenario_file(tmp_path: Path, body: str, suffix: str = ".toml") -> Path:
    path = tmp_path / f"scen{suffix}"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize("a, b", [("Plan A", "Plan-A"), ("-1+1", "=1+1"), ("Q1", "q1"), ("a/b", "a b")])
def test_fill_refuses_two_scenarios_sharing_a_file(tmp_path, a, b):
    scen = _scenario_file(tmp_path, json.dumps({"scenarios": {a: {}, b: {"daily_active_users": 5}}}), ".json")
    out = tmp_path / "books"
    one_line_error(run("fill", scen, "-o", out), "fill", repr(a), repr(b), "would both be written to")
    assert not out.exists()


@pytest.mark.parametrize("bad", ["\u0000", "\u0001", "\ufffe", "\ud800"])
def test_fill_refuses_unstorable_names_before_writing_anything(tmp_path, bad):
    data = json.dumps({"scenarios": {"first": {}, f"x{bad}y": {}}})
    scen = _scenario_file(tmp_path, data, ".json")
    out = tmp_path / "books"
    one_line_error(run("fill", scen, "-o", out), "fill", f"U+{ord(bad):04X}")
    assert not out.exists()


def test_fill_many_scenarios_into_one_xlsx_is_refused(tmp_path):
    scen = _scenario_file(tmp_path, "[scenarios.a]\n[scenarios.b]\n")
    one_line_error(run("fill", scen, "-o", tmp_path / "one.xlsx"), "fill", "give a folder")
    assert not (tmp_path / "one.xlsx").exists()


def test_fill_onto_existing_non_files_is_refused_first(tmp_path):
    scen = _scenario_file(tmp_path, "[scenarios.a]\n[scenarios.b]\n")
    out = tmp_path / "books"
    out.mkdir()
    os.mkfifo(out / "b.xlsx")
    one_line_error(run("fill", scen, "-o", out), "fill", "b.xlsx", "named pipe")
    assert [p.name for p in out.iterdir()] == ["b.xlsx"]


def test_fill_writes_injection_strings_as_text(tmp_path):
    name = "=HYPERLINK(\"http://x\",\"y\")+cmd|' /C calc'!A0"
    scen = _scenario_file(tmp_path, json.dumps({"name": name}), ".json")
    out = tmp_path / "inj.xlsx"
    res = run("fill", scen, "-o", out)
    assert res.returncode == 0, res.stderr
    wb = load_workbook(out)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value == name]
    assert cells and all(c.data_type == "s" for c in cells)  # text, not a formula


# ------------------------------------------------------------------------------------------- numbers
def test_overflowing_input_is_an_error_naming_the_users_key(tmp_path):
    scen = _scenario_file(tmp_path, "api_input_usd_per_mtok = 1e308\n")
    one_line_error(run("recommend", scen, "--json"), "recommend", "api_input_usd_per_mtok = 1e+308", "overflow")
    scen = _scenario_file(tmp_path, "daily_active_users = 1e200\nrequests_per_user_per_day = 1e200\n")
    line = one_line_error(run("recommend", scen), "recommend", "daily_active_users")
    assert "requests_per_day must" not in line


def test_json_is_strict(tmp_path):
    scen = _scenario_file(tmp_path, "daily_active_users = 3000\n")
    res = run("recommend", scen, "--json")
    assert res.returncode == 0, res.stderr

    def no_constants(name: str) -> None:
        raise AssertionError(f"{name} is not JSON")

    assert json.loads(res.stdout, parse_constant=no_constants)["requests_per_day"] == 150_000  # 3000 x 50


def test_a_huge_bad_value_is_not_echoed_in_full(tmp_path):
    scen = _scenario_file(tmp_path, 'daily_active_users = "' + "9" * 2_000_000 + '"\n')
    one_line_error(run("recommend", scen), "recommend", "daily_active_users", "2,000,000 characters")


# ------------------------------------------------------------------------------------------- kill and race
def test_kill_9_mid_write_leaves_the_original_intact(book, tmp_path):
    before = book.read_bytes()
    flag = tmp_path / "writing"
    code = (_RUNNER.replace("from buildbuy.workbook.cli import main", f"""
import time, pathlib
import buildbuy.workbook.xlsx as x
real = x._write_zip
def slow(src, fh, replaced):
    fh.write(b"PK partial")
    fh.flush()
    pathlib.Path({str(flag)!r}).touch()
    time.sleep(60)
x._write_zip = slow
from buildbuy.workbook.cli import main"""))
    proc = subprocess.Popen([sys.executable, "-c", code, str(MEMORY_LIMIT_BYTES), "recalc", str(book)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not flag.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert flag.exists(), "the write never started"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert book.read_bytes() == before
    assert load_workbook(book)["Data"]["B1"].value == "=SUM(A1:A3)"
    # What a kill -9 can leave: a hidden temporary file next to the book, never a damaged book.
    assert {p.name for p in tmp_path.iterdir()} - {"book.xlsx", "writing"} <= {
        p.name for p in tmp_path.glob(".book.xlsx.*.tmp")}


def test_concurrent_in_place_runs_leave_a_whole_book(book, tmp_path):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    procs = [subprocess.Popen([sys.executable, "-c", _RUNNER, str(MEMORY_LIMIT_BYTES), "recalc", str(book)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(4)]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert all(rc == 0 for _, _, rc in results), results
    ws = load_workbook(book, data_only=True)["Data"]
    assert ws["B1"].value == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


# ------------------------------------------------------------------------------------------- cells
def test_non_finite_cell_results_are_num_errors(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "=BVB_API_COST(1E300,1E300,1,1E300,1)"
    wb.save(tmp_path / "big.xlsx")
    res = run("recalc", tmp_path / "big.xlsx", "--check")
    assert res.returncode == 1, res.stderr
    assert "A1 #NUM!" in res.stderr and "finite" in res.stderr
    assert load_workbook(tmp_path / "big.xlsx", data_only=True).active["A1"].value == "#NUM!"


def test_results_with_control_characters_are_stored(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws["A1"] = '="a"&CHAR(1)&"b"'
    wb.save(tmp_path / "ctl.xlsx")
    res = run("recalc", tmp_path / "ctl.xlsx")
    assert res.returncode == 0, res.stderr
    with zipfile.ZipFile(tmp_path / "ctl.xlsx") as z:
        assert b"a_x0001_b" in z.read("xl/worksheets/sheet1.xml")


def test_array_formula_over_the_whole_sheet_is_refused_in_bounded_memory(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws["A1"] = ArrayFormula("A1:XFD1048576", "=1")
    wb.save(tmp_path / "huge.xlsx")
    before = (tmp_path / "huge.xlsx").read_bytes()
    one_line_error(run("recalc", tmp_path / "huge.xlsx"), "recalc", "huge.xlsx", "A1:XFD1048576")
    assert (tmp_path / "huge.xlsx").read_bytes() == before


# ------------------------------------------------------------------------------------------- bounded on any book
BOTH = ("formualizer", "formulas")


def _book_with(tmp_path: Path, name: str, cells: dict[str, object], names: dict[str, str] | None = None) -> Path:
    from openpyxl.workbook.defined_name import DefinedName

    wb = Workbook()
    ws = wb.active
    ws.title = "S"
    for ref, value in cells.items():
        ws[ref] = value
    for n, text in (names or {}).items():
        wb.defined_names[n] = DefinedName(n, attr_text=text)
    path = tmp_path / name
    wb.save(path)
    return path


def _values(path: Path, *refs: str) -> list[object]:
    ws = load_workbook(path, data_only=True)["S"]
    return [ws[r].value for r in refs]


@pytest.mark.parametrize("engine", BOTH)
def test_formulas_at_opposite_corners(tmp_path, engine):
    # A 1 KB file: the two cells must not be read as one 17-billion-cell rectangle.
    path = _book_with(tmp_path, "corners.xlsx", {"A1": "=1+1", "XFD1048576": "=2+2"})
    res = run("recalc", path, "--engine", engine)
    assert res.returncode == 0, res.stderr
    assert _values(path, "A1", "XFD1048576") == [2, 4]


@pytest.mark.parametrize("engine", BOTH)
def test_full_height_and_full_width_ranges(tmp_path, engine):
    # B1:B1048576 holds 2, 3, 7 and 5 -> 17 (LibreOffice and formualizer agree); row 5 holds 4, 5, 6 -> 15.
    cells = {"B1": 2, "B2": 3, "B3": 7, "A5": 4, "B5": 5, "E5": 6,
             "C1": "=SUM(B1:B1048576)", "D1": "=SUM(A5:XFD5)", "C2": "=SUM(B1:B100)"}
    path = _book_with(tmp_path, "full.xlsx", cells)
    # formulas lists the million cells of B1:B1048576 (about 0.8 GB, within its documented range limit).
    limit = MEMORY_LIMIT_BYTES * (2 if engine == "formulas" else 1)
    res = run("recalc", path, "--engine", engine, "--check", limit=limit)
    assert res.returncode == 0, res.stderr
    assert _values(path, "C1", "D1", "C2") == [17, 15, 17]


def test_formulas_refuses_ranges_it_would_list_cell_by_cell(tmp_path):
    path = _book_with(tmp_path, "sheetwide.xlsx", {"C3": 5, "A1": "=SUM(C1:XFD1048576)"})
    before = path.read_bytes()
    one_line_error(run("recalc", path, "--engine", "formulas"), "recalc", "S!A1", "C1:XFD1048576",
                   "--engine formualizer")
    assert path.read_bytes() == before
    res = run("recalc", path)  # formualizer: bounded, and right
    assert res.returncode == 0, res.stderr
    assert _values(path, "A1") == [5]


@pytest.mark.parametrize("engine", BOTH)
def test_whole_sheet_defined_name(tmp_path, engine):
    path = _book_with(tmp_path, "name.xlsx", {"A1": "=1", "B2": "=A1+1"}, {"everything": "S!$A$1:$XFD$1048576"})
    res = run("recalc", path, "--engine", engine, "--json")
    if engine == "formulas":  # formulas compiles every name cell by cell: refused in one line
        one_line_error(res, "recalc", "EVERYTHING", "--engine formualizer")
    else:
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["ok"] is True


@pytest.mark.parametrize("engine", BOTH)
def test_lint_on_a_sheet_wide_range_is_bounded(tmp_path, engine):
    path = _book_with(tmp_path, "lint.xlsx", {"C3": 5, "A1": "=SUM(C1:XFD1048576)", "B1": "=A1"})
    res = run("lint", path, "--engine", engine)
    expected = 1 if engine == "formulas" else 0  # formulas: the range is too large for it, said so
    assert res.returncode == expected, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert f"{expected} finding(s)" in res.stdout


@pytest.mark.parametrize("engine", BOTH)
def test_circular_references_are_reported(tmp_path, engine):
    path = _book_with(tmp_path, "circ.xlsx", {"A1": "=B1+1", "B1": "=A1+1", "C1": "=5"})
    res = run("recalc", path, "--engine", engine, "--check")
    assert res.returncode == 1, res.stderr
    assert "circular reference" in res.stderr and "S!A1" in res.stderr and "S!B1" in res.stderr
    assert _values(path, "A1", "B1", "C1") == ["#VALUE!", "#VALUE!", 5]
    lint = run("lint", path, "--engine", engine)
    assert lint.returncode == 1 and lint.stdout.count("CIRCULAR-REFERENCE") == 2


@pytest.mark.parametrize("engine", BOTH)
def test_unparsable_formula_names_the_cell(tmp_path, engine):
    path = _book_with(tmp_path, "parse.xlsx", {"A1": "=1+1", "B7": "=SUM(1,"})
    before = path.read_bytes()
    one_line_error(run("recalc", path, "--engine", engine), "recalc", "parse.xlsx", "S!B7", "=SUM(1,",
                   "cannot be parsed")
    assert path.read_bytes() == before
    lint = run("lint", path, "--engine", engine)
    assert lint.returncode == 1 and "S!B7: CANNOT-PARSE" in lint.stdout


def test_formula_longer_than_excel_allows(tmp_path):
    path = _book_with(tmp_path, "long.xlsx", {"A1": "=" + "+".join(["1"] * 5000)})
    for engine in BOTH:
        one_line_error(run("recalc", path, "--engine", engine), "recalc", "long.xlsx", "A1", "8,192")


def test_100k_new_cells_are_written_in_order():
    # Cells that do not exist yet are merged into their rows in one pass (the writer was quadratic: 10,000
    # array cells took 17 s). The time is measured by benchmarks/bench_limits.py; here: complete and in order.
    from lxml import etree

    from buildbuy.workbook.xlsx import NS_MAIN, M, set_cells

    n = 100_000
    root = etree.fromstring(f'<worksheet xmlns="{NS_MAIN}"><sheetData><row r="7"><c r="A7"><v>1</v></c>'
                            f'<c r="C7"><v>1</v></c><extLst/></row></sheetData></worksheet>'.encode())
    set_cells(root, {f"B{i}": float(i) for i in range(n, 0, -1)})
    rows = list(root.find(f"{M}sheetData"))
    assert [int(r.get("r")) for r in rows] == list(range(1, n + 1))
    assert [c.get("r") or etree.QName(c).localname for c in rows[6]] == ["A7", "B7", "C7", "extLst"]
    assert rows[54320][0].findtext(f"{M}v") == "54321"


def test_legacy_array_formula_into_a_sheet_without_rows(tmp_path):
    n = 1_000
    wb = Workbook()
    data = wb.active
    data.title = "Data"
    for i in range(1, n + 1):
        data.cell(i, 1, i)
    wb.create_sheet("S")["B1"] = ArrayFormula(f"B1:B{n}", f"=Data!A1:A{n}*2")  # sheet S has no row yet
    path = tmp_path / "arr.xlsx"
    wb.save(path)
    for engine in BOTH:
        res = run("recalc", path, "--engine", engine, "--check")
        assert res.returncode == 0, res.stderr
        assert _values(path, "B1", "B543", f"B{n}") == [2, 1086, 2 * n]


# ------------------------------------------------------------------------------------------- Excel functions
def test_assumption_cache_tells_true_from_one():
    from buildbuy.udfs.registry import clear_caches, invoke

    clear_caches()
    first = invoke("BVB_TCO", "API", [["gpu_utilization", 1]])
    second = invoke("BVB_TCO", "API", [["gpu_utilization", True]])
    assert isinstance(first, float)
    assert getattr(second, "code", None) == "#VALUE!" and "gpu_utilization" in second.message
    clear_caches()
    assert getattr(invoke("BVB_TCO", "API", [["gpu_utilization", True]]), "code", None) == "#VALUE!"
    assert invoke("BVB_TCO", "API", [["gpu_utilization", 1]]) == first


@pytest.mark.parametrize("key, value", [("daily_active_users", 2000), ("requests_per_user_per_day", 100),
                                        ("requests_per_day", 100_000)])
def test_sensitivity_honours_the_volume_keys_whatever_the_range_gives(key, value):
    from buildbuy.udfs.registry import invoke

    # Doubling the volume doubles the API's annual cost: 100,000 req/day x (400 x $10 + 100 x $30)/1M x 365
    # with the default token counts and prices is what requests_per_day=100,000 gives directly.
    direct = invoke("BVB_ANNUAL_COST", "API", [["requests_per_day", 100_000]])
    for base in ([["requests_per_day", 50_000]], [["daily_active_users", 1000], ["requests_per_user_per_day", 50]]):
        assert invoke("BVB_SENSITIVITY", "API", base, key, value) == pytest.approx(direct)
        assert invoke("BVB_SENSITIVITY", "API", base, key, value) != invoke("BVB_ANNUAL_COST", "API", base)


def test_break_even_of_an_option_against_itself_is_an_error():
    from buildbuy.udfs.registry import invoke

    for fn in ("BVB_BREAKEVEN_VOLUME", "BVB_BREAKEVEN_MONTH"):
        res = invoke(fn, [["daily_active_users", 1000]], "API", "api")
        assert getattr(res, "code", None) == "#VALUE!" and "option_b" in res.message


@pytest.mark.parametrize("slow", ["plan", "backend"])
def test_fill_recalc_time_limit_per_workbook(tmp_path, monkeypatch, capsys, slow):
    import buildbuy.workbook.fast as fast
    import buildbuy.workbook.recalc as rc
    from buildbuy.workbook.cli import main

    if slow == "plan":  # the compiled plan, stopped by an alarm in this process
        monkeypatch.setattr(fast, "recalc_fast", lambda *a, **k: time.sleep(5))
    else:  # the plan hands the book to the backend, which runs in a child process killed at the limit
        monkeypatch.setattr(fast, "recalc_fast", lambda *a, **k: None)
        monkeypatch.setattr(rc, "recalc", lambda *a, **k: time.sleep(5))
    scen = _scenario_file(tmp_path, 'name = "slow"\n')
    out = tmp_path / "slow.xlsx"
    assert main(["fill", str(scen), "-o", str(out), "--recalc", "--timeout", "0.5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "scenario 'slow': stopped after 0.5 s (--timeout)" in err[0]


@pytest.mark.parametrize("engine", BOTH)
def test_check_messages_are_per_cell(tmp_path, engine):
    path = _book_with(tmp_path, "msgs.xlsx", {"A1": "=BVB_API_COST(-5,400,100,10,10)",
                                              "A2": "=BVB_API_COST(5,-400,100,10,10)",
                                              "A3": "=1+BVB_API_COST(B1,1,1,1,1)", "B1": "text"})
    res = run("recalc", path, "--engine", engine, "--check")
    assert res.returncode == 1, res.stderr
    lines = res.stderr.splitlines()

    def message_of(cell: str) -> str:
        i = next(i for i, line in enumerate(lines) if f"S!{cell} #VALUE!" in line)
        return next(line for line in reversed(lines[:i]) if "cell(s)):" in line)

    assert "got -5" in message_of("A1") and "-400" not in message_of("A1")
    assert "input_tokens_per_request" in message_of("A2") and "got -5" not in message_of("A2")
    assert "got 'text'" in message_of("A3") and "-400" not in message_of("A3")


def test_sensitivity_equals_the_annual_cost_with_the_key_set_for_every_numeric_input():
    # BVB_SENSITIVITY(option, A, key, v) is defined as the annual cost with key = v in A (the volume keys
    # replacing a given requests_per_day); checked for every numeric input, every option, three layouts of A.
    from buildbuy.engine.inputs import NUMERIC_KINDS, _load_specs
    from buildbuy.udfs.registry import invoke

    volume = [["daily_active_users", 1000], ["requests_per_user_per_day", 50]]
    for base in ([["requests_per_day", 50_000]], volume, []):
        for key, spec in _load_specs().items():
            if spec.kind not in NUMERIC_KINDS:
                continue
            if spec.kind == "share":
                v = 0.35
            else:
                v = float(int(float(spec.default or 1) * 1.5 + 1))
            given = volume if key in ("daily_active_users", "requests_per_user_per_day") and base[:1] == [
                ["requests_per_day", 50_000]] else base
            rows = [r for r in given if r[0] != key and not (key == "requests_per_day"
                                                            and r[0] == "daily_active_users")] + [[key, v]]
            for option in ("API", "FINE-TUNE", "TRAIN", "PHASED"):
                got = invoke("BVB_SENSITIVITY", option, base, key, v)
                want = invoke("BVB_ANNUAL_COST", option, rows)
                assert got == pytest.approx(want, rel=1e-12) if isinstance(want, float) else got == want, (
                    base, key, option, got, want)


def test_a_name_that_cannot_be_encoded_is_printed_escaped(tmp_path):
    scen = _scenario_file(tmp_path, json.dumps({"name": "x\ud800y", "daily_active_users": 10}), ".json")
    res = run("recommend", scen)
    assert res.returncode == 0, res.stderr
    assert "Scenario: x\\ud800y" in res.stdout


def test_formulas_backend_refuses_books_it_would_take_minutes_on(tmp_path, monkeypatch):
    import buildbuy.workbook.backend_formulas as bf
    from buildbuy.workbook.xlsx import WorkbookFileError

    path = _book_with(tmp_path, "many.xlsx", {f"B{i}": f"=A{i}*2" for i in range(1, 12)})
    monkeypatch.setattr(bf, "MAX_FORMULA_CELLS", 10)
    with pytest.raises(WorkbookFileError, match=r"many\.xlsx: 11 formula cells; .* stops at 10: use --engine"):
        bf.check_range_sizes(path)


def test_time_limit_stops_native_evaluation(tmp_path):
    # 4,000 SUMPRODUCTs over 4,000 cells: about 10 s inside formualizer's Rust core, where a Python alarm cannot
    # reach (it holds the interpreter lock). The limit holds anyway, the book is untouched, nothing is left over.
    n = 4_000
    wb = Workbook()
    ws = wb.active
    for i in range(1, n + 1):
        ws.cell(i, 1, i)
        ws.cell(i, 2, f"=SUMPRODUCT((A$1:A${n}>A{i})*1)")
    path = tmp_path / "slow.xlsx"
    wb.save(path)
    before = path.read_bytes()
    t0 = time.monotonic()
    one_line_error(run("recalc", path, "--timeout", "1"), "recalc", "stopped after 1 s (--timeout)")
    assert time.monotonic() - t0 < 8
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["slow.xlsx"]


def test_a_backend_crash_is_one_line(tmp_path, monkeypatch, capsys):
    import buildbuy.workbook.recalc as rc
    from buildbuy.workbook.cli import main

    path = small_book(tmp_path / "book.xlsx")
    before = path.read_bytes()
    monkeypatch.setattr(rc, "_evaluate", lambda *a, **k: os.abort())  # what a native abort looks like
    assert main(["recalc", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "stopped abnormally (signal 6" in err[0] and "nothing was written" in err[0]
    assert path.read_bytes() == before
