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


def test_broken_xml(book, tmp_path):
    bad = rezip(book, tmp_path / "broken.xlsx", replace={"xl/worksheets/sheet1.xml": b"<worksheet><sheetData>"})
    before = bad.read_bytes()
    one_line_error(run("recalc", bad), "recalc", "sheet1.xml", "broken XML")
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
    one_line_error(run("recalc", bad), "recalc", part, "DTD")
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
    one_line_error(run("recommend", scen, "--json"), "recommend", "api_input_usd_per_mtok = 1e+308", "infinite")
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
    one_line_error(run("recalc", tmp_path / "huge.xlsx"), "recalc", "A1:XFD1048576")
    assert (tmp_path / "huge.xlsx").read_bytes() == before
