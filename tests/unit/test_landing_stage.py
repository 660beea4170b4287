"""Staging: the uniform Parquet contract dbt reads, the manifest, idempotency, the CLI."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from platform_tools.cli import main
from platform_tools.errors import ArtifactError, UsageError
from platform_tools.landing.generator import GenerateParams, generate
from platform_tools.landing.parse_csv import _parse_csv_python
from platform_tools.landing.stage import (
    MANIFEST_SCHEMA,
    MTIME_COLUMN,
    STAGED_SCHEMA,
    CorruptFile,
    discover,
    parse_csv,
    parse_jsonl,
    parse_parquet,
    stage,
    staged_path,
)

DAYS = ("2024-10-26", "2024-10-27", "2024-10-28")
CORRUPT = "dutchgrid/readings/ingest_date=2024-10-27/readings_2024-10-27_retry.parquet"
FIXED_NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def fixed_now() -> datetime:
    return FIXED_NOW


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("stage")
    landing, staging = root / "landing", root / "staging"
    generate(GenerateParams(), landing)
    summary = stage(landing, staging, now=fixed_now)
    assert len(summary.staged) == 60
    assert [path for path, _ in summary.corrupt_new] == [CORRUPT]
    return landing, staging


def manifest_rows(staging: Path) -> list[dict[str, Any]]:
    return pq.read_table(staging / "_manifest" / "manifest.parquet").to_pylist()


def without_mtime(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != MTIME_COLUMN}


def records(staging: Path, relative: str) -> list[dict[str, Any]]:
    return pq.read_table(staged_path(staging, relative)).to_pylist()


# -- the staged files ---------------------------------------------------------------------


def test_every_readable_landing_file_is_staged_with_the_contract_columns(
    staged: tuple[Path, Path],
) -> None:
    landing, staging = staged
    files, ignored = discover(landing)
    assert ignored == []
    assert len(files) == 61
    for file in files:
        target = staged_path(staging, file.relative)
        if file.relative == CORRUPT:
            assert not target.exists()
            continue
        assert target.name == Path(file.relative).name + ".parquet"
        table = pq.read_table(target)
        assert table.schema.equals(STAGED_SCHEMA)
        assert table.column("_row_number").to_pylist() == list(range(1, table.num_rows + 1))
        assert set(table.column("_source_file").to_pylist()) <= {file.relative}
        assert set(table.column("_ingest_date").to_pylist()) <= {file.ingest_date}


def test_rows_are_rendered_as_landed_text(staged: tuple[Path, Path]) -> None:
    landing, staging = staged
    rel = "nordgrid/readings/ingest_date=2024-10-26/readings_2024-10-26.csv"
    first = records(staging, rel)[0]
    assert first == {
        "_source_file": rel,
        "_ingest_date": "2024-10-26",
        "_row_number": 1,
        "_record": '{"meter_number":"DE1000000000","interval_start_utc":"2024-10-26T00:00:00Z",'
        '"interval_minutes":"60","energy_kwh":"0.068","sent_at_utc":"2024-10-26T01:19:07Z"}',
        "_parse_error": None,
    }
    rel = "electra/tariffs/ingest_date=2024-10-26/tariffs_full_2024-10-26.jsonl"
    tariffs = [json.loads(r["_record"]) for r in records(staging, rel)]
    assert tariffs[0]["prix_eur_kwh"] == "0.2516"  # the literal text, not a float
    assert tariffs[1]["date_fin_validite"] is None
    assert tariffs[2]["prix_eur_kwh"] == "0.2700"
    rel = "dutchgrid/readings/ingest_date=2024-10-26/readings_2024-10-26.parquet"
    row = json.loads(records(staging, rel)[0]["_record"])
    original = pq.read_table(landing / rel).slice(0, 1).to_pylist()[0]
    assert row == {
        "ean": original["ean"],
        "period_start": "2024-10-26 00:00:00",
        "period_minutes": "60",
        "volume_kwh": repr(original["volume_kwh"]),
        "received_at": original["received_at"].strftime("%Y-%m-%d %H:%M:%S"),
    }
    rel = "dutchgrid/tariffs/ingest_date=2024-10-26/tariffs_full_2024-10-26.parquet"
    row = json.loads(records(staging, rel)[0]["_record"])
    assert row == {
        "tariff_code": "NL-VAST",
        "price_eur_per_kwh": "0.2950",
        "valid_from": "2023-01-01",
        "valid_to": "2024-10-26",
        "mutation_type": "I",
    }
    rel = "luxpower/contracts/ingest_date=2024-10-26/contracts_full_2024-10-26.csv"
    row = json.loads(records(staging, rel)[0]["_record"])
    assert list(row) == ["Vertrag", "Kunde", "Lieferstelle", "Tarif", "Beginn", "Ende", "Aenderung"]
    assert row["Ende"] == ""


def test_every_text_row_round_trips_and_broken_rows_are_parse_errors(
    staged: tuple[Path, Path],
) -> None:
    landing, staging = staged
    for system, sep in (("nordgrid", ","), ("luxpower", ";")):
        for day in DAYS:
            rel = f"{system}/readings/ingest_date={day}/readings_{day}.csv"
            lines = (landing / rel).read_text().splitlines()
            header = next(csv.reader([lines[0]], delimiter=sep))
            staged_rows = records(staging, rel)
            assert len(staged_rows) == len(lines) - 1
            for line, row in zip(lines[1:], staged_rows, strict=True):
                cells = next(csv.reader(io.StringIO(line), delimiter=sep))
                if len(cells) == len(header):
                    assert json.loads(row["_record"]) == dict(zip(header, cells, strict=True))
                    assert row["_parse_error"] is None
                else:
                    assert json.loads(row["_record"]) == {"_raw_line": line}
                    assert row["_parse_error"] == f"expected {len(header)} fields, got 3"
    errors = 0
    for day in DAYS:
        rel = f"electra/readings/ingest_date={day}/readings_{day}.jsonl"
        lines = (landing / rel).read_text().splitlines()
        for line, row in zip(lines, records(staging, rel), strict=True):
            try:
                original = json.loads(line)
            except json.JSONDecodeError:
                errors += 1
                assert row["_parse_error"].startswith("invalid JSON: ")
                assert json.loads(row["_record"]) == {"_raw_line": line}
                continue
            expected = {k: v if isinstance(v, str) else str(v) for k, v in original.items()}
            assert json.loads(row["_record"]) == expected
    assert errors >= 1


def test_manifest_describes_every_file(staged: tuple[Path, Path]) -> None:
    landing, staging = staged
    table = pq.read_table(staging / "_manifest" / "manifest.parquet")
    assert table.schema.equals(MANIFEST_SCHEMA)
    rows = table.to_pylist()
    assert [r["source_file"] for r in rows] == sorted(r["source_file"] for r in rows)
    assert len(rows) == 61
    truths = {d: json.loads((landing / "_truth" / f"{d}.json").read_text()) for d in DAYS}
    for row in rows:
        data = (landing / row["source_file"]).read_bytes()
        assert row["source_sha256"] == hashlib.sha256(data).hexdigest()
        assert row["source_bytes"] == len(data)
        assert row["staged_at"] == FIXED_NOW
        assert row["source_file"].startswith(
            f"{row['system']}/{row['entity']}/ingest_date={row['ingest_date']}/"
        )
        if row["source_file"] == CORRUPT:
            assert row["status"] == "corrupt"
            assert row["error"].startswith("unreadable Parquet: ") and "\n" not in row["error"]
            assert row["row_count"] == 0 and row["columns_json"] == "[]"
        else:
            assert row["status"] == "staged" and row["error"] is None
            landed = truths[row["ingest_date"]]["rows_landed"][row["system"]][row["entity"]]
            assert row["row_count"] == landed
            if row["entity"] != "readings":  # master data never has broken rows
                errors = pq.read_table(staged_path(staging, row["source_file"]))["_parse_error"]
                assert errors.null_count == len(errors)
    by_file = {r["source_file"]: r for r in rows}
    assert json.loads(
        by_file["dutchgrid/readings/ingest_date=2024-10-26/readings_2024-10-26.parquet"][
            "columns_json"
        ]
    ) == [
        ["ean", "string"],
        ["period_start", "timestamp[us]"],
        ["period_minutes", "int32"],
        ["volume_kwh", "double"],
        ["received_at", "timestamp[us]"],
    ]
    drift = json.loads(
        by_file["nordgrid/readings/ingest_date=2024-10-28/readings_2024-10-28.csv"]["columns_json"]
    )
    assert drift[-1] == ["quality_flag", "string"] and len(drift) == 6
    before = json.loads(
        by_file["nordgrid/readings/ingest_date=2024-10-27/readings_2024-10-27.csv"]["columns_json"]
    )
    assert [name for name, _ in before] == [
        "meter_number",
        "interval_start_utc",
        "interval_minutes",
        "energy_kwh",
        "sent_at_utc",
    ]
    empty = by_file["electra/tariffs/ingest_date=2024-10-27/tariffs_changes_2024-10-27.jsonl"]
    assert empty["status"] == "staged" and empty["row_count"] == 0


# -- idempotency --------------------------------------------------------------------------


def test_staging_is_idempotent_and_restages_only_changed_files(tmp_path: Path) -> None:
    landing, staging = tmp_path / "landing", tmp_path / "staging"
    params = GenerateParams(meters=20, days=2)
    generate(params, landing)
    first = stage(landing, staging)
    assert len(first.staged) == 40 and len(first.corrupt_new) == 1
    snapshot = tree_hashes(staging)
    manifest_before = manifest_rows(staging)

    again = stage(landing, staging)
    assert again.staged == () and again.unchanged == 41 and again.corrupt_new == ()
    assert again.corrupt_known[0][0].endswith("readings_2024-10-27_retry.parquet")
    assert not again.manifest_written
    assert tree_hashes(staging) == snapshot
    assert manifest_rows(staging) == manifest_before

    generate(params, landing)  # re-landing identical files changes nothing
    assert stage(landing, staging).staged == ()
    assert tree_hashes(staging) == snapshot

    rel = "luxpower/readings/ingest_date=2024-10-26/readings_2024-10-26.csv"
    staged_path(staging, rel).unlink()  # a lost staged file is re-staged identically
    assert stage(landing, staging).staged == (rel,)
    assert tree_hashes(staging) == snapshot

    with (landing / rel).open("a", encoding="utf-8") as handle:
        handle.write("LU10000000;26.10.2024;23:00;+02:00;0,500;27.10.2024 01:00:00+02:00\n")
    changed = stage(landing, staging, now=fixed_now)
    assert changed.staged == (rel,) and changed.unchanged == 40
    after = {r["source_file"]: r for r in manifest_rows(staging)}
    before = {r["source_file"]: r for r in manifest_before}
    assert after[rel]["row_count"] == before[rel]["row_count"] + 1
    assert after[rel]["source_sha256"] != before[rel]["source_sha256"]
    assert after[rel]["staged_at"] == FIXED_NOW
    # (rewritten anyway, the manifest may also record settled mtimes of unchanged files)
    assert {k: without_mtime(v) for k, v in after.items() if k != rel} == {
        k: without_mtime(v) for k, v in before.items() if k != rel
    }
    last = records(staging, rel)[-1]
    assert json.loads(last["_record"])["Verbrauch_kWh"] == "0,500"

    (landing / rel).write_bytes(b"\xff\xfe not utf-8 \n")  # now unreadable: stale output goes
    broken = stage(landing, staging)
    assert [p for p, _ in broken.corrupt_new] == [rel]
    assert not staged_path(staging, rel).exists()


def test_a_withdrawn_file_is_kept_as_history_and_never_loaded_again(tmp_path: Path) -> None:
    landing, staging = tmp_path / "landing", tmp_path / "staging"
    generate(GenerateParams(meters=20, days=2), landing)
    stage(landing, staging)
    good = "luxpower/readings/ingest_date=2024-10-26/readings_2024-10-26.csv"
    saved = (landing / good).read_bytes()
    before = {r["source_file"]: r for r in manifest_rows(staging)}
    (landing / good).unlink()
    (landing / CORRUPT).unlink()
    summary = stage(landing, staging)
    assert summary.withdrawn == tuple(sorted([good, CORRUPT]))
    after = {r["source_file"]: r for r in manifest_rows(staging)}
    assert set(after) == set(before)  # history: no row is dropped
    assert after[good]["status"] == after[CORRUPT]["status"] == "withdrawn"
    assert after[CORRUPT]["error"] == before[CORRUPT]["error"]  # the quarantine record stays
    assert after[good]["source_sha256"] == before[good]["source_sha256"]
    assert not staged_path(staging, good).exists()
    assert stage(landing, staging).withdrawn == ()  # reported once
    (landing / good).write_bytes(saved)  # landed again: staged as new
    again = stage(landing, staging)
    assert again.staged == (good,)
    assert {r["source_file"]: r for r in manifest_rows(staging)}[good]["status"] == "staged"


def test_files_outside_the_layout_are_ignored_and_unknown_types_are_corrupt(
    tmp_path: Path,
) -> None:
    landing, staging = tmp_path / "landing", tmp_path / "staging"
    part = landing / "nordgrid" / "readings" / "ingest_date=2024-10-26"
    part.mkdir(parents=True)
    (part / "a.csv").write_text("x,y\n1,2\n")
    (part / ".a.csv.123.tmp").write_text("partial")  # a generator temp file
    (part / "notes.txt").write_text("hello")
    (landing / "README.md").write_text("top level")
    (landing / "_truth").mkdir()
    (landing / "_truth" / "2024-10-26.json").write_text("{}")
    bad = landing / "nordgrid" / "readings" / "ingest_date=2024-13-40"
    bad.mkdir()
    (bad / "b.csv").write_text("x\n1\n")
    summary = stage(landing, staging)
    assert summary.staged == ("nordgrid/readings/ingest_date=2024-10-26/a.csv",)
    assert summary.corrupt_new == (
        ("nordgrid/readings/ingest_date=2024-10-26/notes.txt", "unsupported file type '.txt'"),
    )
    assert set(summary.ignored) == {"README.md", "nordgrid/readings/ingest_date=2024-13-40/b.csv"}


# -- the parsers ----------------------------------------------------------------------------


def texts(parsed: Any) -> list[tuple[Any, Any]]:
    return list(zip(parsed.records.to_pylist(), parsed.errors.to_pylist(), strict=True))


def test_csv_parser_handles_bom_blank_lines_quotes_and_bad_rows() -> None:
    data = b'\xef\xbb\xbfa;b;c\n1;2;3\n\n"x;y";"";\xc3\xa9\n4;5\n6;7;8;9\r\nq;"w""e";r\n'
    parsed = parse_csv(data, ";")
    assert parsed.columns == [("a", "string"), ("b", "string"), ("c", "string")]
    assert texts(parsed) == [
        ('{"a":"1","b":"2","c":"3"}', None),
        ('{"a":"x;y","b":"","c":"é"}', None),
        ('{"_raw_line":"4;5"}', "expected 3 fields, got 2"),
        ('{"_raw_line":"6;7;8;9"}', "expected 3 fields, got 4"),
        ('{"a":"q","b":"w\\"e","c":"r"}', None),
    ]
    fallback = _parse_csv_python(data[3:], ["a", "b", "c"], ";")
    assert fallback[1].to_pylist() == [e for _, e in texts(parsed)]
    assert parse_csv(b"", ",").row_count == 0
    assert parse_csv(b"a,b\n", ",").columns == [("a", "string"), ("b", "string")]
    with pytest.raises(CorruptFile, match="not UTF-8"):
        parse_csv(b"a,b\n\xff,1\n", ",")


def test_csv_parser_escapes_control_characters_like_json_dumps() -> None:
    parsed = parse_csv(b'a,b\n"tab\there",back\\slash\n', ",")
    record = parsed.records.to_pylist()[0]
    assert record == json.dumps(
        {"a": "tab\there", "b": "back\\slash"}, ensure_ascii=False, separators=(",", ":")
    )


def test_jsonl_parser_keeps_literal_text() -> None:
    data = (
        b'{"n": 1.50, "i": -7, "t": true, "f": false, "z": null, "s": "\\u00e9", '
        b'"o": {"k": [1, 2.0, "x"]}, "e": 1e3}\n'
        b"\n"
        b'{"prm": "1", "cut\n'
        b"[1, 2]\n"
        b'{"later": "x"}\n'
    )
    parsed = parse_jsonl(data)
    rows = texts(parsed)
    assert json.loads(rows[0][0]) == {
        "n": "1.50",
        "i": "-7",
        "t": "true",
        "f": "false",
        "z": None,
        "s": "é",
        "o": '{"k":[1,2.0,"x"]}',
        "e": "1e3",
    }
    assert rows[0][1] is None
    assert rows[1][0] == '{"_raw_line":"{\\"prm\\": \\"1\\", \\"cut"}'
    assert rows[1][1].startswith("invalid JSON: ")
    assert rows[2] == ('{"_raw_line":"[1, 2]"}', "not a JSON object")
    assert rows[3] == ('{"later":"x"}', None)
    assert [name for name, _ in parsed.columns] == ["n", "i", "t", "f", "z", "s", "o", "e", "later"]
    with pytest.raises(CorruptFile):
        parse_jsonl(b'{"a": "\xff"}\n')


def test_parquet_parser_renders_types_canonically() -> None:
    table = pa.table(
        {
            "ts": pa.array(
                [datetime(2024, 10, 27, 1), datetime(2024, 10, 27, 1, 0, 0, 5), None],
                pa.timestamp("us"),
            ),
            "ns": pa.array([1_000_000_000, 1_000_000_001, 1_500], pa.timestamp("ns")),
            "utc": pa.array([0, 1, 2], pa.timestamp("s", tz="Europe/Paris")),
            "d": pa.array([date(2024, 10, 27), None, date(1999, 1, 1)], pa.date32()),
            "f": pa.array([0.1, 1.0, float("nan")], pa.float64()),
            "i": pa.array([1, None, -3], pa.int32()),
            "b": pa.array([True, False, None]),
            "dec": pa.array([Decimal("0.2500"), None, Decimal("-1.0000")], pa.decimal128(10, 4)),
            "cat": pa.array(["x", "y", "x"]).dictionary_encode(),
            "bin": pa.array([b"\x00\xff", b"", None], pa.binary()),
            "lst": pa.array([[1, 2], [], None], pa.list_(pa.int64())),
            "s": pa.array(['q"uote', None, "é"]),
        }
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    parsed = parse_parquet(sink.getvalue().to_pybytes())
    rows = [json.loads(r) for r in parsed.records.to_pylist()]
    assert rows[0] == {
        "ts": "2024-10-27 01:00:00",
        "ns": "1970-01-01 00:00:01",
        "utc": "1970-01-01 00:00:00Z",
        "d": "2024-10-27",
        "f": "0.1",
        "i": "1",
        "b": "true",
        "dec": "0.2500",
        "cat": "x",
        "bin": "00ff",
        "lst": "[1,2]",
        "s": 'q"uote',
    }
    assert rows[1]["ts"] == "2024-10-27 01:00:00.000005"
    assert rows[1]["ns"] == "1970-01-01 00:00:01.000000001"
    assert rows[2]["ns"] == "1970-01-01 00:00:00.000001500"
    assert rows[1]["f"] == "1.0" and rows[2]["f"] == "nan"
    assert rows[1]["i"] is None and rows[1]["d"] is None and rows[2]["b"] is None
    assert rows[2]["ts"] is None and rows[1]["bin"] == "" and rows[2]["lst"] is None
    assert parsed.columns[0] == ("ts", "timestamp[us]")
    assert ("utc", "timestamp[ms, tz=Europe/Paris]") in parsed.columns
    with pytest.raises(CorruptFile, match="unreadable Parquet"):
        parse_parquet(sink.getvalue().to_pybytes()[:100])
    assert pc.all(pc.is_null(parsed.errors)).as_py()


# -- errors and the CLI -----------------------------------------------------------------------


def test_missing_landing_and_bad_staging_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="does not exist"):
        stage(tmp_path / "nope", tmp_path / "staging")
    (tmp_path / "landing").mkdir()
    with pytest.raises(UsageError, match="inside the landing zone"):
        stage(tmp_path / "landing", tmp_path / "landing" / "staging")
    (tmp_path / "staging" / "_manifest").mkdir(parents=True)
    (tmp_path / "staging" / "_manifest" / "manifest.parquet").write_bytes(b"garbage")
    with pytest.raises(ArtifactError, match="delete it to re-stage"):
        stage(tmp_path / "landing", tmp_path / "staging")


def test_cli_stage_reports_corrupt_files_and_exits_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRIDUNION_LAKEHOUSE", str(tmp_path / "lh"))
    assert main(["landing", "generate", "--meters", "10", "--days", "2"]) == 0
    capsys.readouterr()
    assert main(["landing", "stage"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("staged 40 file(s) (")
    assert ", 0 unchanged, 1 corrupt (" in out
    assert f"  corrupt: {CORRUPT}: unreadable Parquet" in out
    assert (tmp_path / "lh" / "staging" / "_manifest" / "manifest.parquet").is_file()
    assert main(["landing", "stage"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("staged 0 file(s) (0 rows), 41 unchanged, 0 corrupt (")
    assert "(unchanged)" in out


def test_cli_stage_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "landing",
            "stage",
            "--landing",
            str(tmp_path / "missing"),
            "--staging",
            str(tmp_path / "s"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 3
    assert err.startswith("platform-tools: error: landing directory ") and err.count("\n") == 1
    (tmp_path / "l").mkdir()
    code = main(
        [
            "landing",
            "stage",
            "--landing",
            str(tmp_path / "l"),
            "--staging",
            str(tmp_path / "l" / "s"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "inside the landing zone" in err and err.count("\n") == 1
