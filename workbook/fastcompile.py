"""Translate the template's formulas into the plan :mod:`buildbuy.workbook.fast` runs (build time only).

Each formula is parsed (Excel's grammar and operator precedence, for the references, operators and functions
the template uses) and written as one Python statement over the helpers of :mod:`buildbuy.workbook.xlfast`,
in an order where every cell comes after the cells it reads. The ``BVB_SENSITIVITY`` cells that are one call
each are gathered into waves computed by one vectorized call. A function or construct outside that set stops
the translation with its cell named: the plan never guesses.

``python -m buildbuy.workbook.template.build`` writes the template and its plan together.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from buildbuy.udfs.refs import col_letter, split_ref

from .backend import spelling_table
from .fast import SheetScan, names_digest, signature

PLAN_PATH = Path(__file__).resolve().parents[1] / "templates" / "template_plan.json"


class CompileError(ValueError):
    """A template formula the plan cannot express."""


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"]|"")*")
  | (?P<ref>(?:(?:'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?(?![\w(.!]))
  | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<fn>[A-Za-z_][\w.]*(?=\())
  | (?P<name>[A-Za-z_][\w.]*)
  | (?P<op><>|<=|>=|[-+*/^&=<>%(),])
""", re.X)


def tokens(formula: str) -> list[tuple[str, str]]:
    text = formula[1:] if formula.startswith("=") else formula
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise CompileError(f"cannot read {text[pos:pos + 20]!r}")
        if m.lastgroup != "ws":
            out.append((m.lastgroup or "", m.group()))
        pos = m.end()
    return out


class Parser:
    """Excel precedence, lowest first: comparison, ``&``, ``+ -``, ``* /``, ``^``, ``%``, unary ``- +``."""

    def __init__(self, toks: list[tuple[str, str]]) -> None:
        self.toks, self.i = toks, 0

    def peek(self) -> tuple[str, str]:
        return self.toks[self.i] if self.i < len(self.toks) else ("end", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise CompileError(f"expected {value!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self) -> Any:
        node = self.compare()
        if self.i != len(self.toks):
            raise CompileError(f"unexpected {self.peek()[1]!r}")
        return node

    def binary(self, ops: tuple[str, ...], nxt: Any) -> Any:
        node = nxt()
        while self.peek()[0] == "op" and self.peek()[1] in ops:
            op = self.take()[1]
            node = ("bin", op, node, nxt())
        return node

    def compare(self) -> Any:
        return self.binary(("=", "<>", "<", "<=", ">", ">="), self.concat)

    def concat(self) -> Any:
        return self.binary(("&",), self.additive)

    def additive(self) -> Any:
        return self.binary(("+", "-"), self.multiplicative)

    def multiplicative(self) -> Any:
        return self.binary(("*", "/"), self.power)

    def power(self) -> Any:
        return self.binary(("^",), self.unary)

    def unary(self) -> Any:
        kind, tok = self.peek()
        if kind == "op" and tok in "+-":
            self.take()
            return ("neg" if tok == "-" else "pos", self.unary())
        node = self.primary()
        while self.peek() == ("op", "%"):
            self.take()
            node = ("pct", node)
        return node

    def primary(self) -> Any:
        kind, tok = self.take()
        if kind == "num":
            return ("num", float(tok))
        if kind == "str":
            return ("str", tok[1:-1].replace('""', '"'))
        if kind == "ref":
            return ("ref", tok)
        if kind == "name":
            if tok.upper() in ("TRUE", "FALSE"):
                return ("bool", tok.upper() == "TRUE")
            return ("name", tok)
        if kind == "fn":
            self.take("(")
            args: list[Any] = []
            if self.peek() != ("op", ")"):
                while True:
                    if self.peek() in (("op", ","), ("op", ")")):
                        raise CompileError(f"an empty argument in {tok}")
                    args.append(self.compare())
                    if self.peek() == ("op", ","):
                        self.take()
                        continue
                    break
            self.take(")")
            return ("call", tok.upper(), args)
        if (kind, tok) == ("op", "("):
            node = self.compare()
            self.take(")")
            return node
        raise CompileError(f"unexpected {tok!r}")


_NAME_AREA = re.compile(r"^(?:'(?P<q>(?:[^']|'')+)'|(?P<s>[^'!]+))!(?P<a>\$?[A-Z]{1,3}\$?\d+)"
                        r"(?::(?P<b>\$?[A-Z]{1,3}\$?\d+))?$")


def _split(ref: str) -> tuple[str | None, str, str | None]:
    sheet, _, cells = ref.rpartition("!")
    if sheet.startswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    a, _, b = cells.replace("$", "").partition(":")
    return (sheet or None), a, (b or None)


_OPS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "^": "power", "&": "concat", "=": "eq", "<>": "ne",
        "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
#: Operators written inline for two floats (the helper, with Excel's rules, for anything else: a blank, a
#: boolean, text, an error, a zero divisor, a result that is not a finite number).
_INLINE = ("+", "-", "*", "/")
_SCALAR_FUNCTIONS = {"ABS": (1, 1), "INT": (1, 1), "MOD": (2, 2), "ROUND": (2, 2), "FIXED": (1, 3),
                     "CEILING": (2, 2), "LOG": (1, 2), "ISNUMBER": (1, 1), "ISTEXT": (1, 1), "ISNA": (1, 1),
                     "IFERROR": (2, 2), "AND": (1, 255)}
_AGGREGATES = ("SUM", "MAX", "MIN")


class Compiler:
    """The template's formula cells as a plan (see the module's docstring)."""

    def __init__(self, sheets: list[str], names: list[tuple[str, str, str | None]], scans: list[SheetScan],
                 formulas: dict[tuple[str, str], str]) -> None:
        self.sheets = sheets
        self.names = {n.upper(): text for n, text, local in names if local is None}
        self.formulas = formulas  # (sheet, ref) -> formula text "=..."
        self.bvb = spelling_table()
        self.leaves: list[tuple[str, str]] = []
        self.index: dict[tuple[str, str], int] = {}
        self.ranges: list[tuple[int, int, tuple[tuple[str, str], ...]]] = []
        self.range_index: dict[tuple[str, str, str], int] = {}
        self.deps: dict[tuple[str, str], set[tuple[str, str]]] = {}
        self.code: dict[tuple[str, str], str] = {}
        self.sensitivity: set[tuple[str, str]] = set()  # cells that are one BVB_SENSITIVITY call
        self.direct: set[tuple[str, str]] = set()  # cells that are one BVB call whose arguments are all constants
        self.params: list[tuple[str, Any]] = []
        self.cell_params: dict[tuple[str, str], list[tuple[str, Any]]] = {}

    # --- references -------------------------------------------------------------------------------------

    def temp(self) -> str:
        """A fresh local name for the formula's shape (operands held once)."""
        self.temps += 1
        return f"_t{self.temps}"

    def param(self, kind: str, value: Any) -> str:
        """A per-cell parameter of the formula's shape: a cell's slot, a range's index or a constant."""
        self.params.append((kind, value))
        return f"p[{len(self.params) - 1}]"

    def const(self, value: Any) -> str:
        return self.param("const", value)

    def cell(self, sheet: str, ref: str, cur: tuple[str, str]) -> str:
        if sheet not in self.sheets:
            raise CompileError(f"sheet {sheet!r} is not in the book")
        key = (sheet, ref)
        if key in self.formulas:
            self.deps[cur].add(key)
        elif key not in self.index:
            self.index[key] = len(self.leaves)
            self.leaves.append(key)
        return f"v[{self.param('cell', key)}]"

    def area(self, sheet: str, a: str, b: str, cur: tuple[str, str]) -> int:
        k = (sheet, a, b)
        if k not in self.range_index:
            (r1, c1), (r2, c2) = split_ref(a), split_ref(b)
            if r2 < r1 or c2 < c1:
                raise CompileError(f"range {a}:{b} is reversed")
            cells = tuple((sheet, f"{col_letter(c)}{r}") for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))
            for key in cells:
                if key not in self.formulas and key not in self.index:
                    self.index[key] = len(self.leaves)
                    self.leaves.append(key)
            self.range_index[k] = len(self.ranges)
            self.ranges.append((r2 - r1 + 1, c2 - c1 + 1, cells))
        k_i = self.range_index[k]
        for key in self.ranges[k_i][2]:
            if key in self.formulas:
                self.deps[cur].add(key)
        return k_i

    def reference(self, node: Any, cur: tuple[str, str]) -> tuple[str, Any]:
        """("cell", code) or ("range", index) for a ref or name node."""
        if node[0] == "ref":
            sheet, a, b = _split(node[1])
            sheet = sheet or cur[0]
        else:
            text = self.names.get(node[1].upper())
            m = _NAME_AREA.match(text or "")
            if not m:
                raise CompileError(f"name {node[1]!r} is not one cell or one range")
            sheet = (m.group("q") or "").replace("''", "'") or m.group("s")
            a, b = m.group("a").replace("$", ""), (m.group("b") or "").replace("$", "") or None
        if b is None or a == b:
            return "cell", self.cell(sheet, a, cur)
        return "range", self.param("range", self.area(sheet, a, b, cur))

    # --- expressions -----------------------------------------------------------------------------------

    def expr(self, node: Any, cur: tuple[str, str]) -> tuple[str, str]:
        """(kind, code): kind "scalar", "range" (code is the range's index) or "array" (a list per cell)."""
        kind = node[0]
        if kind in ("num", "str", "bool"):
            return "scalar", self.const(node[1])
        if kind in ("ref", "name"):
            what, code = self.reference(node, cur)
            return ("scalar", code) if what == "cell" else ("range", str(code))
        if kind in ("neg", "pos", "pct"):
            return "scalar", f"{ {'neg': 'neg', 'pos': 'pos', 'pct': 'percent'}[kind]}({self.scalar(node[1], cur)})"
        if kind == "bin":
            op, left, right = node[1], self.expr(node[2], cur), self.expr(node[3], cur)
            fn = _OPS[op]
            if left[0] == "scalar" and right[0] == "scalar":
                if op in _INLINE:  # two plain numbers (nearly always): Python's float arithmetic, inline
                    x, y, r = self.temp(), self.temp(), self.temp()
                    guard = f" and {y} != 0.0" if op == "/" else ""
                    return "scalar", (f"({r} if (type({x} := {left[1]}) is float) & (type({y} := {right[1]}) is "
                                      f"float){guard} and -_MAX <= ({r} := {x} {op} {y}) <= _MAX else "
                                      f"{fn}({x}, {y}))")
                return "scalar", f"{fn}({left[1]}, {right[1]})"
            return "array", f"array_op({fn}, {self.as_array(left)}, {self.as_array(right)})"
        if kind == "call":
            return self.call(node[1], node[2], cur)
        raise CompileError(f"cannot translate {node!r}")

    def as_array(self, ke: tuple[str, str]) -> str:
        return f"ctx.R({ke[1]})" if ke[0] == "range" else ke[1]

    def scalar(self, node: Any, cur: tuple[str, str]) -> str:
        kind, code = self.expr(node, cur)
        if kind != "scalar":
            raise CompileError("a range where one value belongs (implicit intersection is not modelled)")
        return code

    def range_arg(self, node: Any, cur: tuple[str, str], fn: str) -> str:
        """The code of a range argument (a one-cell reference as a one-cell range)."""
        if node[0] not in ("ref", "name"):
            raise CompileError(f"{fn} needs a range here")
        what, code = self.reference(node, cur)
        if what == "cell":
            _, key = self.params.pop()
            return self.param("range", self.area(key[0], key[1], key[1], cur))
        return code

    def range_shape(self, code: str) -> tuple[int, int]:
        k = self.params[int(code[2:-1])][1]
        return self.ranges[k][0], self.ranges[k][1]

    def position(self, fn: str, args: list[Any], cur: tuple[str, str]) -> str:
        if not args:
            row, col = split_ref(cur[1])
        elif len(args) == 1 and args[0][0] == "ref":
            _, a, _ = _split(args[0][1])
            row, col = split_ref(a)
        else:
            raise CompileError(f"{fn} of something other than a reference")
        return self.const(float(row if fn == "ROW" else col))

    def call(self, fn: str, args: list[Any], cur: tuple[str, str]) -> tuple[str, str]:
        canonical = self.bvb.get(fn)
        if canonical is not None:
            parts = []
            for a in args:
                kind, code = self.expr(a, cur)
                parts.append(f"ctx.RR({code})" if kind == "range" else code)
                if kind == "array":
                    raise CompileError(f"an array argument to {canonical}")
            if canonical == "BVB_LINE_ITEM" and len(parts) == 4:  # the timeline: one engine call per option
                return "scalar", f"ctx.LI({', '.join(parts)})"
            if canonical == "BVB_RISK_CELL" and len(parts) in (8, 9):  # one Monte Carlo, many cells
                return "scalar", f"ctx.RC({', '.join(parts)})"
            return "scalar", f"ctx.B({canonical!r}, ({', '.join(parts)},))"
        if fn in ("ROW", "COLUMN"):
            return "scalar", self.position(fn, args, cur)
        if fn == "IF":
            if not 2 <= len(args) <= 3:
                raise CompileError("IF takes 2 or 3 arguments")
            cond = self.scalar(args[0], cur)
            yes = self.scalar(args[1], cur)
            no = self.scalar(args[2], cur) if len(args) == 3 else "False"
            return "scalar", f"(({yes}) if truth({cond}) else ({no}))"
        if fn == "CHOOSE":
            n = self.scalar(args[0], cur)
            options = [self.scalar(a, cur) for a in args[1:]]
            chain = " else ".join(f"({o}) if _i == {i} " for i, o in enumerate(options[:-1], 1))
            body = f"{chain}else ({options[-1]})" if chain else f"({options[-1]})"
            return "scalar", f"(lambda _i: {body})(CHOOSE_INDEX({n}, {len(options)}))"
        if fn in _AGGREGATES:
            codes, flags = [], []
            for a in args:
                kind, code = self.expr(a, cur)
                if kind == "array":
                    raise CompileError(f"an array inside {fn}")
                codes.append(f"ctx.R({code})" if kind == "range" else code)
                flags.append(str(kind == "range"))
            if fn == "SUM" and flags == ["True"]:
                return "scalar", f"SUM_RANGE({codes[0]})"
            return "scalar", f"{fn}(({', '.join(codes)},), ({', '.join(flags)},))"
        if fn == "ISBLANK":
            return "scalar", f"ISBLANK({self.scalar(args[0], cur)})"
        if fn == "ISERROR":
            kind, code = self.expr(args[0], cur)
            if kind == "scalar":
                return "scalar", f"ISERROR({code})"
            return "array", f"ISERROR_ARRAY({self.as_array((kind, code))})"
        if fn == "INDEX":
            k = self.range_arg(args[0], cur, fn)
            rows, cols = self.range_shape(k)
            rest = ", ".join(self.scalar(a, cur) for a in args[1:3])
            return "scalar", f"INDEX(ctx.R({k}), {self.const(rows)}, {self.const(cols)}, {rest})"
        if fn == "SUMIFS":
            if len(args) < 3 or len(args) % 2 == 0:
                raise CompileError("SUMIFS takes a sum range and pairs of range and criterion")
            parts = [f"ctx.R({self.range_arg(args[0], cur, fn)})"]
            for rng, crit in zip(args[1::2], args[2::2], strict=True):
                parts.append(f"ctx.R({self.range_arg(rng, cur, fn)})")
                parts.append(self.scalar(crit, cur))
            return "scalar", f"SUMIFS({', '.join(parts)})"
        if fn == "SUMPRODUCT":
            arrays = []
            for a in args:
                kind, code = self.expr(a, cur)
                if kind == "scalar":
                    raise CompileError("SUMPRODUCT of a single value")
                arrays.append(self.as_array((kind, code)))
            return "scalar", f"SUMPRODUCT({', '.join(arrays)})"
        if fn == "NPV":
            if len(args) != 2:
                raise CompileError("NPV with other than one range of values")
            return "scalar", f"NPV({self.scalar(args[0], cur)}, ctx.R({self.range_arg(args[1], cur, fn)}))"
        if fn in _SCALAR_FUNCTIONS:
            low, high = _SCALAR_FUNCTIONS[fn]
            if not low <= len(args) <= high:
                raise CompileError(f"{fn} with {len(args)} arguments")
            return "scalar", f"{fn}({', '.join(self.scalar(a, cur) for a in args)})"
        raise CompileError(f"function {fn} is not in the plan's set")

    # --- the plan ----------------------------------------------------------------------------------------

    def translate(self) -> None:
        for key, formula in self.formulas.items():
            self.deps[key] = set()
            self.params = []
            self.temps = 0
            try:
                node = Parser(tokens(formula)).parse()
                if (node[0] == "call" and self.bvb.get(node[1]) == "BVB_SENSITIVITY" and len(node[2]) == 4):
                    parts = []
                    for a in node[2]:
                        kind, code = self.expr(a, key)
                        parts.append(f"ctx.RR({code})" if kind == "range" else code)
                        if kind == "array":
                            raise CompileError("an array argument to BVB_SENSITIVITY")
                    self.sensitivity.add(key)
                    self.code[key] = f"({', '.join(parts)})"
                else:
                    kind, code = self.expr(node, key)
                    if kind != "scalar":
                        raise CompileError("a cell whose value is a range or an array")
                    self.code[key] = f"top({code})"
            except CompileError as exc:
                raise CompileError(f"{key[0]}!{key[1]} {formula}: {exc}") from None
            self.cell_params[key] = self.params
            if (node[0] == "call" and node[1] in self.bvb and not self.deps[key]
                    and all(a[0] in ("num", "str", "bool", "ref", "name") for a in node[2])):
                self.direct.add(key)  # one BVB call on constants: an error there is the engine's, message and all

    def order(self) -> Iterator[list[tuple[str, str]]]:
        """Steps in dependency order: one cell, or a wave of BVB_SENSITIVITY cells computed together."""
        waiting = {k: set(d) for k, d in self.deps.items()}
        users: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for k, d in waiting.items():
            for x in d:
                users.setdefault(x, []).append(k)
        ready = sorted(k for k, d in waiting.items() if not d)
        ready_waves: list[tuple[str, str]] = []
        done = 0

        def release(k: tuple[str, str]) -> None:
            for u in users.get(k, ()):
                waiting[u].discard(k)
                if not waiting[u]:
                    (ready_waves if u in self.sensitivity else ready).append(u)

        ready, pending = [k for k in ready if k not in self.sensitivity], [k for k in ready if k in self.sensitivity]
        ready_waves.extend(pending)
        while ready or ready_waves:
            if ready:
                k = ready.pop(0)
                yield [k]
                done += 1
                release(k)
            else:
                wave, ready_waves[:] = sorted(ready_waves), []
                yield wave
                done += len(wave)
                for k in wave:
                    release(k)
        if done != len(self.deps):
            stuck = sorted(k for k, d in waiting.items() if d)[:3]
            raise CompileError(f"circular references among {stuck}")

    def plan(self, sig: str) -> dict[str, Any]:
        """The plan as data: the distinct formula shapes (Python source, one function each) and the steps."""
        slots: dict[tuple[str, str], int] = dict(self.index)
        formula_cells: list[tuple[str, str]] = []
        steps = list(self.order())
        for step in steps:
            for k in step:
                slots[k] = len(self.leaves) + len(formula_cells)
                formula_cells.append(k)
        shapes: dict[str, int] = {}

        def one(k: tuple[str, str]) -> list[Any]:
            shape = shapes.setdefault(self.code[k], len(shapes))
            params = [slots[x] if kind == "cell" else x for kind, x in self.cell_params[k]]
            return [slots[k], shape, params]

        out_steps: list[Any] = []
        for step in steps:
            if len(step) == 1 and step[0] not in self.sensitivity:
                out_steps.append(one(step[0]))
            else:
                out_steps.append(["wave", [one(k) for k in step]])
        return {"signature": sig,
                "about": "The bundled template's formulas as data for buildbuy.workbook.fast: generated by "
                         "buildbuy.workbook.fastcompile from templates/buildbuy-template.xlsx (python -m "
                         "buildbuy.workbook.template.build); do not edit.",
                "leaves": [list(k) for k in self.leaves],
                "formulas": [list(k) for k in formula_cells],
                "ranges": [[r, c, [slots[k] for k in cells]] for r, c, cells in self.ranges],
                "direct": sorted(slots[k] for k in self.direct),
                "shapes": [f"def s{i}(v, ctx, p):\n    return {code}\n" for code, i in shapes.items()],
                "steps": out_steps}


def compile_template(path: str | Path) -> dict[str, Any]:
    """The plan for the template at ``path``."""
    from .xlsx import Package, sheet_formula_cells

    with Package(path) as pkg:
        sheets = pkg.sheets()
        names = pkg.defined_names()
        scans = [SheetScan(pkg.read(s.part).decode("utf-8")) for s in sheets]
        formulas: dict[tuple[str, str], str] = {}
        for s, scan in zip(sheets, scans, strict=True):
            if not scan.complete:
                raise CompileError(f"sheet {s.name}: a cell element the scanner does not read")
            for fc in sheet_formula_cells(pkg.xml(s.part), s.name):
                if fc.array_ref:
                    raise CompileError(f"{s.name}!{fc.ref}: array formulas are not in the plan's set")
                formulas[(s.name, fc.ref)] = fc.formula
        sig = signature([s.name for s in sheets], names, scans)
        early = names_digest([s.name for s in sheets], names)
    comp = Compiler([s.name for s in sheets], names, scans, formulas)
    comp.translate()
    return dict(comp.plan(sig), names_digest=early)


def plan_text(template: str | Path) -> str:
    """The plan file's text (JSON, one step per line so that a change reads well in a diff)."""
    import json

    plan = compile_template(template)
    lines = ["{"]
    items = list(plan.items())
    for i, (key, value) in enumerate(items):
        end = "," if i < len(items) - 1 else ""
        if isinstance(value, list) and key in ("shapes", "steps", "ranges"):
            body = ",\n".join("  " + json.dumps(x, separators=(",", ":")) for x in value)
            lines.append(f"{json.dumps(key)}: [\n{body}\n]{end}")
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value, separators=(',', ':'))}{end}")
    return "\n".join(lines) + "\n}\n"


def write_plan(template: str | Path, out: str | Path = PLAN_PATH) -> Path:
    Path(out).write_text(plan_text(template), encoding="utf-8")
    return Path(out)


if __name__ == "__main__":
    from .template import TEMPLATE_PATH

    print(write_plan(TEMPLATE_PATH))
