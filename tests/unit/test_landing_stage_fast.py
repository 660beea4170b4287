"""Staging's fast paths give what the straightforward ones give.

The vectorised JSON-lines layouts against the per-line path, the one-join CSV/Parquet
records against the per-column formula, the Arrow helpers against pyarrow's own conversions,
and the mtime shortcut of the manifest (it must never skip a changed file it can detect).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from platform_tools.landing import stage as stage_module
from platform_tools.landing.arrowtext import (
    bool_values,
    concat,
    int_array,
    int_values,
    join,
    json_quote,
    optional_int_array,
    text_array,
    text_scalar,
)
from platform_tools.landing.generator import GenerateParams, generate
from platform_tools.landing.parse_jsonl import (
    _find_layouts,
    _split_json_lines,
    _vector_rows,
    parse_jsonl,
)
from platform_tools.landing.parse_parquet import _read_parquet, _seconds_text
from platform_tools.landing.records import (
    CorruptFile,
    ParsedFile,
    one_line,
    records_from_columns,
)
from platform_tools.landing.stage import (
    MANIFEST_SCHEMA,
    MTIME_COLUMN,
    stage,
    staged_path,
)

OLD_NS = 1_600_000_000_000_000_000  # 2020-09-13: long settled


def same_parse(data: bytes) -> ParsedFile:
    """Stage ``data`` both ways and require the same columns, records and errors."""
    fast = parse_jsonl(data)
    slow = parse_jsonl(data, vectorised=False)
    assert fast.columns == slow.columns
    assert fast.records.to_pylist() == slow.records.to_pylist()
    assert fast.errors.to_pylist() == slow.errors.to_pylist()
    assert fast.records.num_chunks == slow.records.num_chunks == 1
    assert fast.records.type == slow.records.type == pa.string()
    return fast


def vectorised_lines(data: bytes) -> int:
    """Lines of ``data`` staged by layouts (and the layouts' self-check passed)."""
    lines = _split_json_lines(data)
    assert _vector_rows(lines) is not None
    groups, _ = _find_layouts(lines)
    return sum(len(numbers) for _, numbers in groups)


# -- JSON lines: vectorised layouts == the per-line path ------------------------------------


def test_vectorised_json_lines_match_the_per_line_path_on_generated_files(
    tmp_path: Path,
) -> None:
    generate(GenerateParams(meters=400, days=3, fault_rate=0.05), tmp_path)
    files = sorted(tmp_path.glob("electra/*/ingest_date=*/*.jsonl"))
    assert {f.parent.parent.name for f in files} == {
        "readings",
        "meters",
        "customers",
        "contracts",
        "tariffs",
    }
    errors = 0
    for path in files:
        data = path.read_bytes()
        parsed = same_parse(data)
        errors += len(parsed.errors) - parsed.errors.null_count
        if parsed.row_count > 100:  # the layouts do the work, not the fallback
            assert vectorised_lines(data) >= 0.9 * parsed.row_count
    cut = [r for p in files for r in parse_jsonl(p.read_bytes()).errors.to_pylist() if r]
    assert errors == len(cut) >= 3 and all(e.startswith("invalid JSON") for e in cut)
    dst = tmp_path / "electra/readings/ingest_date=2024-10-27/readings_2024-10-27.jsonl"
    assert '"horodatage": "2024-10-27T02:' in dst.read_text()  # the repeated local hour


EDGE_LINES = [
    '{"a": "x", "n": 0.2500, "i": -7, "e": 1e5, "E": 1E+5, "z": -0, "f": -0.0}',
    '{"big": 123456789012345678901234567890, "small": 1.5e-7, "zero": 0}',
    '{"t": true, "f": false, "z": null}',
    '{"s": "é漢字😀", "u": "\u2028 \x7f", "empty": "", "q": "a\'b"}',
    '{"esc": "x\\"y", "back": "\\\\", "uni": "\\u00e9", "nl": "\\n", "sl": "\\/"}',
    '{"lone": "\\ud800"}',
    '{"pair": "\\ud83d\\ude00"}',
    '{"o": {"k": [1, 2.0, "x", null, true]}, "l": [], "d": {}}',
    '{"a": 1, "a": 2}',
    '{"a": 1, "b": 2, "a": "3"}',
    '  { "a" : 1 ,  "b":"two"  }  ',
    '{"a":1,"b":"two"}',
    '{"a":1,"b":"two"}\r',
    '{"a":1}\r\r',
    '\t{"a": 1}',
    '{"a":\t1}',
    '{"a": 1}\x0c',
    "\x0c",
    "   ",
    "\r",
    "",
    "{}",
    "{ }",
    "[1, 2]",
    '"just a string"',
    "17",
    "null",
    '{"a": 01}',
    '{"a": 1.}',
    '{"a": .5}',
    '{"a": +1}',
    '{"a": -}',
    '{"a": 1e}',
    '{"a": NaN, "b": Infinity, "c": -Infinity}',
    '{"a": 1,}',
    '{"a": 1}}',
    '{"a": 1} x',
    '{"a" 1}',
    '{"a": tru}',
    '{"a": "x\x01y"}',
    '{"a": "tab\there"}',
    '{"": 1, " ": "sp"}',
    '{"a b": 1, "c:d": 2, "e,f": "g", "{": "}", "[x]": "(y)"}',
    '{"a.b*c+?": 1, "$^|": 2, "é": 3}',
    '\ufeff{"a": 1}',
    '{"prm": "1", "cut',
    '{"k": "' + "v" * 5000 + '"}',
]


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_vectorised_json_lines_match_the_per_line_path_on_edge_cases(ending: str) -> None:
    for line in EDGE_LINES:
        same_parse(line.encode("utf-8"))
        same_parse((line + ending).encode("utf-8"))
        same_parse(((line + ending) * 3).encode("utf-8"))
    body = ending.join(EDGE_LINES).encode("utf-8")
    same_parse(body)
    same_parse(b"\xef\xbb\xbf" + body + ending.encode())
    # the same lines many times and interleaved: layouts are groups of scattered lines
    rng = random.Random(7)
    lines = EDGE_LINES * 20
    rng.shuffle(lines)
    mixed = ending.join(lines).encode("utf-8")
    same_parse(mixed)
    assert vectorised_lines(mixed) > 0


def random_line(rng: random.Random) -> str:
    def value() -> str:
        return rng.choice(
            [
                '"text"',
                '"é ü"',
                '""',
                '"a, \\"b\\""',
                '"x:y"',
                "0",
                "-0",
                "12",
                "-3.50",
                "1e9",
                "2E-3",
                "0.2500",
                "01",
                "1.",
                "true",
                "false",
                "null",
                "nul",
                '[1, {"a": 2}]',
                '{"n": 1}',
                "[]",
                "NaN",
                "-Infinity",
                '"\\u00e9"',
                '"tab\there"',
            ]
        )

    keys = rng.sample(["prm", "kwh", "ts", "a", "b", "c", "b c", "é"], rng.randint(0, 5))
    if rng.random() < 0.05 and keys:
        keys.append(keys[0])  # duplicate key
    spacing = rng.choice([(": ", ", "), (":", ","), (" : ", " , "), (": ", ",  ")])
    pairs = [f'"{k}"{spacing[0]}{value()}' for k in keys]
    line = "{" + spacing[1].join(pairs) + "}"
    roll = rng.random()
    if roll < 0.05:
        line = line[: rng.randint(0, len(line))]
    elif roll < 0.08:
        line = " " + line + " "
    elif roll < 0.10:
        line += "\r"
    elif roll < 0.12:
        line = rng.choice(["", " ", "\t", "[]", "42"])
    return line


def test_vectorised_json_lines_match_the_per_line_path_on_random_lines() -> None:
    rng = random.Random(2024)
    for _ in range(20):
        lines = [random_line(rng) for _ in range(rng.randint(1, 400))]
        same_parse("\n".join(lines).encode("utf-8"))


def test_layouts_beyond_the_limit_take_the_per_line_path() -> None:
    lines = [f'{{"k{i % 40}": {i}, "v": "x"}}' for i in range(400)]
    data = "\n".join(lines).encode()
    same_parse(data)
    assert 0 < vectorised_lines(data) < 400


def test_the_vectorised_path_keeps_corrupt_file_handling() -> None:
    with pytest.raises(CorruptFile, match="not UTF-8 text: 'utf-8' codec"):
        parse_jsonl(b'{"a": "ok"}\n{"a": "\xff"}\n')
    assert parse_jsonl(b"").row_count == 0
    assert parse_jsonl(b"\n\n").row_count == 0


# -- CSV and Parquet records, timestamps, Parquet reading ----------------------------------


def test_one_join_records_match_the_per_column_formula() -> None:
    rng = random.Random(5)
    alphabet = ["a", "é", '"', "\\", "\n", "\x01", " ", ",", "{", "😀"]
    columns = []
    for kind in range(6):
        values: list[str | None] = [
            "".join(rng.choice(alphabet[:2] if kind < 3 else alphabet) for _ in range(5))
            for _ in range(50)
        ]
        if kind % 3 == 2:
            values[::7] = [None] * len(values[::7])
        columns.append(text_array(values))
    names = ["plain", "é", 'q"uote', "ctl\x01", "sp ace", "back\\slash"]
    fast = records_from_columns(names, columns, 50)
    fragments: list[pa.Array | str] = [
        concat(json.dumps(name, ensure_ascii=False) + ":", json_quote(text))
        for name, text in zip(names, columns, strict=True)
    ]
    assert fast.equals(concat("{", join(fragments, ","), "}"))
    for row, record in enumerate(fast.to_pylist()):
        expected = {n: c[row].as_py() for n, c in zip(names, columns, strict=True)}
        assert record == json.dumps(expected, ensure_ascii=False, separators=(",", ":"))
    sliced = [c.slice(10, 20) for c in columns]  # sliced arrays: escape check stays safe
    assert records_from_columns(names, sliced, 20).equals(fast.slice(10, 20))


def test_seconds_text_matches_strftime() -> None:
    rng = np.random.default_rng(3)
    inside = np.concatenate(
        [
            rng.integers(-62_135_596_800, 253_402_300_800, 5000),
            [-62_135_596_800, 0, -1],
        ]
    )
    outside = np.array([-62_135_596_801, 0, 253_402_300_800, 300_000_000_000])
    for seconds in (inside, outside, inside[:0]):
        expected = pc.strftime(pa.array(seconds, pa.timestamp("s")), format="%Y-%m-%d %H:%M:%S")
        assert _seconds_text(seconds).equals(expected)


def parquet_bytes_of(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def outcome(read: Any, data: bytes) -> tuple[str, Any]:
    try:
        return "ok", read(data)
    except CorruptFile as exc:
        return "error", str(exc).removeprefix("unreadable Parquet: ")
    except (pa.ArrowException, OSError, ValueError) as exc:
        return "error", one_line(str(exc))


def test_parquet_is_read_like_read_table() -> None:
    table = pa.table(
        {
            "i": pa.array(range(1000)),
            "s": pa.array([f"v{i}" for i in range(1000)]).dictionary_encode(),
            "t": pa.array(range(1000), pa.timestamp("ns", tz="Europe/Paris")),
            "l": pa.array([[i] for i in range(1000)]),
        }
    )
    good = parquet_bytes_of(table)
    rng = random.Random(11)
    flipped = []
    for _ in range(60):
        data = bytearray(good)
        for _ in range(3):
            data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
        flipped.append(bytes(data))
    duplicate = parquet_bytes_of(pa.table([pa.array([1]), pa.array([2])], names=["x", "x"]))
    reserved = parquet_bytes_of(pa.table({"__filename": ["a"]}))
    cases = [good, b"", b"garbage", good[:100], good[:-10], b"PAR1PAR1", bytes(64) + b"PAR1"]
    for data in [*cases, *flipped, duplicate, reserved]:
        ours = outcome(_read_parquet, data)
        theirs = outcome(lambda d: pq.read_table(pa.BufferReader(d)), data)
        assert ours[0] == theirs[0]
        if ours[0] == "ok":
            assert ours[1].equals(theirs[1])
        else:
            assert ours[1] == theirs[1]


# -- the Arrow helpers ----------------------------------------------------------------------


def test_arrow_helpers_build_what_pyarrow_builds() -> None:
    texts = ["a", None, "", "é😀", 'q"', None]
    assert text_array(texts).equals(pa.array(texts, pa.string()))
    assert text_array([]).equals(pa.array([], pa.string()))
    assert text_scalar("x").equals(pa.scalar("x", pa.string()))
    assert int_array(np.arange(5)).equals(pa.array(range(5), pa.int64()))
    stamps = int_array([0, 86_400], pa.timestamp("s"))
    assert stamps.equals(pa.array([0, 86_400], pa.timestamp("s")))
    assert optional_int_array([1, None, -3]).equals(pa.array([1, None, -3], pa.int64()))
    flags = pa.array([True, False, None, True] * 5).slice(3)
    assert bool_values(flags).tolist() == [bool(v) for v in flags.to_pylist()]
    numbers = pa.array(range(10), pa.int64()).slice(4, 3)
    assert int_values(numbers).tolist() == [4, 5, 6]


def test_staging_does_not_import_pandas(tmp_path: Path) -> None:
    """pyarrow imports pandas on its first Python-object conversion: about 0.5 s."""
    landing, staging = tmp_path / "landing", tmp_path / "staging"
    generate(GenerateParams(meters=20, days=2), landing)
    script = (
        "import sys; from pathlib import Path; "
        "from platform_tools.landing.stage import stage; "
        f"stage(Path({str(landing)!r}), Path({str(staging)!r})); "
        f"stage(Path({str(landing)!r}), Path({str(staging)!r})); "
        "print('pandas' in sys.modules, 'pyarrow.dataset' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


# -- the mtime shortcut ---------------------------------------------------------------------


def landing_with(tmp_path: Path, files: dict[str, str], mtime_ns: int | None = OLD_NS) -> Path:
    landing = tmp_path / "landing"
    for relative, text in files.items():
        path = landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if mtime_ns is not None:
            os.utime(path, ns=(mtime_ns, mtime_ns))
    return landing


CSV = "nordgrid/readings/ingest_date=2024-10-26/a.csv"
JSONL = "electra/readings/ingest_date=2024-10-26/b.jsonl"


def manifest_by_file(staging: Path) -> dict[str, dict[str, Any]]:
    table = pq.read_table(staging / "_manifest" / "manifest.parquet")
    return {row["source_file"]: row for row in table.to_pylist()}


def forbid_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("an unchanged file was read")

    monkeypatch.setattr(stage_module, "_read_source", refuse)
    monkeypatch.setattr(stage_module, "_sha256_of", refuse)


def test_files_with_their_recorded_size_and_mtime_are_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing = landing_with(tmp_path, {CSV: "x,y\n1,2\n", JSONL: '{"a": 1}\n'})
    staging = tmp_path / "staging"
    assert len(stage(landing, staging).staged) == 2
    rows = manifest_by_file(staging)
    assert rows[CSV][MTIME_COLUMN] == rows[JSONL][MTIME_COLUMN] == OLD_NS
    with monkeypatch.context() as patch:
        forbid_reading(patch)
        again = stage(landing, staging)
    assert again.staged == () and again.unchanged == 2 and not again.manifest_written

    staged_path(staging, CSV).unlink()  # a lost staged file is not "unchanged"
    assert stage(landing, staging).staged == (CSV,)
    assert manifest_by_file(staging) == rows


def test_a_changed_file_is_restaged_even_with_the_same_size(tmp_path: Path) -> None:
    landing = landing_with(tmp_path, {CSV: "x,y\n1,2\n"})
    staging = tmp_path / "staging"
    stage(landing, staging, now=lambda: datetime(2030, 1, 1, tzinfo=UTC))
    (landing / CSV).write_text("x,y\n3,4\n")  # same size, new mtime
    os.utime(landing / CSV, ns=(OLD_NS + 1, OLD_NS + 1))
    changed = stage(landing, staging)
    assert changed.staged == (CSV,)
    row = manifest_by_file(staging)[CSV]
    assert row[MTIME_COLUMN] == OLD_NS + 1
    record = pq.read_table(staged_path(staging, CSV)).column("_record").to_pylist()
    assert record == ['{"x":"3","y":"4"}']


def test_a_recent_mtime_is_not_trusted(tmp_path: Path) -> None:
    """Two writes within one file-system timestamp tick can share an mtime."""
    now_ns = time.time_ns()
    landing = landing_with(tmp_path, {CSV: "x,y\n1,2\n"}, mtime_ns=now_ns)
    staging = tmp_path / "staging"
    stage(landing, staging)
    assert manifest_by_file(staging)[CSV][MTIME_COLUMN] is None
    (landing / CSV).write_text("x,y\n3,4\n")  # same size, and the same mtime
    os.utime(landing / CSV, ns=(now_ns, now_ns))
    assert stage(landing, staging).staged == (CSV,)


def test_relanded_identical_files_change_nothing_until_the_manifest_is_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing = landing_with(tmp_path, {CSV: "x,y\n1,2\n", JSONL: '{"a": 1}\n'})
    staging = tmp_path / "staging"
    stage(landing, staging)
    before = manifest_by_file(staging)
    os.utime(landing / CSV, ns=(OLD_NS + 5, OLD_NS + 5))  # copied: same bytes, new mtime
    again = stage(landing, staging)
    assert again.staged == () and not again.manifest_written
    assert manifest_by_file(staging) == before
    # a new file makes the manifest change: the hashed file's current mtime is recorded
    new = landing_with(tmp_path, {"luxpower/readings/ingest_date=2024-10-27/c.csv": "a;b\n"})
    assert new == landing
    assert stage(landing, staging).manifest_written
    after = manifest_by_file(staging)
    assert after[CSV] == {**before[CSV], MTIME_COLUMN: OLD_NS + 5}
    assert after[JSONL] == before[JSONL]
    with monkeypatch.context() as patch:
        forbid_reading(patch)
        assert stage(landing, staging).unchanged == 3


def test_a_manifest_without_mtimes_is_read_and_upgraded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing = landing_with(tmp_path, {CSV: "x,y\n1,2\n", JSONL: "not json\n"})
    staging = tmp_path / "staging"
    stage(landing, staging)
    path = staging / "_manifest" / "manifest.parquet"
    current = pq.read_table(path)
    pq.write_table(current.drop_columns([MTIME_COLUMN]), path)  # as written before
    staged_before = staged_path(staging, CSV).read_bytes()
    upgrade = stage(landing, staging)
    assert upgrade.staged == () and upgrade.unchanged == 2 and upgrade.manifest_written
    table = pq.read_table(path)
    assert table.schema.equals(MANIFEST_SCHEMA)
    assert table.equals(current)
    assert staged_path(staging, CSV).read_bytes() == staged_before
    with monkeypatch.context() as patch:
        forbid_reading(patch)
        assert stage(landing, staging).unchanged == 2
