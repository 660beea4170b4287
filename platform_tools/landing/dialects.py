"""The four source systems: their files, field names, codes and encodings.

Each system lands every entity in its own dialect (see ``docs/landing.md``):

========== ======= ============================= =========================================
system     country file format                   conventions
========== ======= ============================= =========================================
nordgrid   DE      CSV ``,``, header, UTF-8      ISO dates, UTC ``...Z`` timestamps, ``.``
electra    FR      JSON lines, UTF-8             French names, Europe/Paris local time
                                                 plus ``saison`` E/H, energy in integer Wh
dutchgrid  NL      Parquet                       EAN-18 codes, naive UTC timestamps
luxpower   LU      CSV ``;``, header, UTF-8      German-ish names, ``dd.mm.yyyy``, local
                                                 time with explicit offset, decimal commas
========== ======= ============================= =========================================

Master-data files carry a change marker column (:data:`CHANGE_FIELDS`) with
:data:`CHANGE_INITIAL` (full export), :data:`CHANGE_UPSERT`, :data:`CHANGE_DELETE` or (customers
only) :data:`CHANGE_ERASE`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from platform_tools.landing import eutime
from platform_tools.landing.arrowtext import (
    IntArray,
    choose,
    concat,
    constant,
    format_epoch_seconds,
    format_fixed,
    join,
    json_quote,
    parquet_bytes,
    text_file_bytes,
    to_text,
    zpad,
)
from platform_tools.landing.faults import (
    UNPARSABLE_ENERGY,
    UNPARSABLE_STRUCTURE,
    UNPARSABLE_TIME,
)
from platform_tools.landing.synthetic import ean18


@dataclass(frozen=True)
class SystemSpec:
    """One acquired source system."""

    name: str
    country: str
    share_percent: int
    region_count: int
    file_format: str  # "csv", "jsonl" or "parquet"
    extension: str
    ean_prefix: int  # the 7-digit GS1 prefix of its meters' canonical EAN-18
    index: int

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(f"{self.country}-{i + 1:02d}" for i in range(self.region_count))

    @property
    def text_format(self) -> bool:
        return self.file_format != "parquet"


SYSTEMS: Final[tuple[SystemSpec, ...]] = (
    SystemSpec("nordgrid", "DE", 40, 12, "csv", "csv", 4019001, 0),
    SystemSpec("electra", "FR", 30, 9, "jsonl", "jsonl", 3019002, 1),
    SystemSpec("dutchgrid", "NL", 20, 6, "parquet", "parquet", 8716003, 2),
    SystemSpec("luxpower", "LU", 10, 3, "csv", "csv", 5419004, 3),
)
SYSTEM_BY_NAME: Final[dict[str, SystemSpec]] = {s.name: s for s in SYSTEMS}
ALL_REGIONS: Final[tuple[str, ...]] = tuple(r for s in SYSTEMS for r in s.regions)

ENTITIES: Final[tuple[str, ...]] = ("readings", "meters", "customers", "contracts", "tariffs")
MASTER_ENTITIES: Final[tuple[str, ...]] = ENTITIES[1:]

CSV_SEPARATORS: Final[dict[str, str]] = {"nordgrid": ",", "luxpower": ";"}
"""The CSV field separator per system (staging uses ``,`` for any other CSV)."""

READINGS_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "nordgrid": ("meter_number", "interval_start_utc", "interval_minutes", "energy_kwh",
                 "sent_at_utc"),
    "electra": ("prm", "horodatage", "saison", "duree_min", "energie_wh", "emis_le"),
    "dutchgrid": ("ean", "period_start", "period_minutes", "volume_kwh", "received_at"),
    "luxpower": ("Zaehler", "Datum", "Uhrzeit", "UTC_Offset", "Verbrauch_kWh", "Gesendet"),
}
DRIFT_FIELD: Final[str] = "quality_flag"
"""Appended to nordgrid readings from the last generated day on (values ``A``/``E``)."""

CHANGE_FIELDS: Final[dict[str, str]] = {
    "nordgrid": "change_type",
    "electra": "type_mouvement",
    "dutchgrid": "mutation_type",
    "luxpower": "Aenderung",
}
CHANGE_INITIAL: Final[str] = "I"
CHANGE_UPSERT: Final[str] = "U"
CHANGE_DELETE: Final[str] = "D"
CHANGE_ERASE: Final[str] = "E"
"""A customer's erasure request (GDPR art. 17): the key only, every other field empty."""

MASTER_FIELDS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "nordgrid": {
        "meters": ("meter_number", "meter_ean", "region", "supply_point_id", "installed_on",
                   "meter_type", "change_type"),
        "customers": ("customer_id", "name", "email", "street", "postal_code", "city", "iban",
                      "segment", "country", "change_type"),
        "contracts": ("contract_id", "customer_id", "supply_point_id", "tariff_code",
                      "start_date", "end_date", "change_type"),
        "tariffs": ("tariff_code", "price_eur_per_kwh", "valid_from", "valid_to",
                    "change_type"),
    },
    "electra": {
        "meters": ("prm", "ean", "region", "point_livraison", "date_pose", "type_compteur",
                   "type_mouvement"),
        "customers": ("id_client", "nom", "courriel", "rue", "code_postal", "ville", "iban",
                      "segment", "pays", "type_mouvement"),
        "contracts": ("id_contrat", "id_client", "point_livraison", "code_tarif", "date_debut",
                      "date_fin", "type_mouvement"),
        "tariffs": ("code_tarif", "prix_eur_kwh", "date_debut_validite", "date_fin_validite",
                    "type_mouvement"),
    },
    "dutchgrid": {
        "meters": ("ean", "region", "connection_ean", "installed_on", "meter_type",
                   "mutation_type"),
        "customers": ("customer_id", "name", "email", "street", "postal_code", "city", "iban",
                      "segment", "country", "mutation_type"),
        "contracts": ("contract_id", "customer_id", "connection_ean", "tariff_code",
                      "start_date", "end_date", "mutation_type"),
        "tariffs": ("tariff_code", "price_eur_per_kwh", "valid_from", "valid_to",
                    "mutation_type"),
    },
    "luxpower": {
        "meters": ("Zaehler", "EAN", "Region", "Lieferstelle", "Installiert_am", "Zaehlertyp",
                   "Aenderung"),
        "customers": ("Kunde", "Name", "Email", "Strasse", "PLZ", "Ort", "IBAN", "Segment",
                      "Land", "Aenderung"),
        "contracts": ("Vertrag", "Kunde", "Lieferstelle", "Tarif", "Beginn", "Ende",
                      "Aenderung"),
        "tariffs": ("Tarif", "Preis_EUR_kWh", "Gueltig_ab", "Gueltig_bis", "Aenderung"),
    },
}

INTERVAL_MINUTES: Final[int] = 60
DUTCHGRID_UNKNOWN_EAN_PREFIX: Final[int] = 8716999
DUTCHGRID_CONNECTION_EAN_PREFIX: Final[int] = 8716100


@dataclass(frozen=True)
class ReadingRows:
    """Readings of one system as landed in one file (plus the truth label of every row).

    ``meter_idx`` is the meter's index in its system (-1 for an unknown code); times are
    epoch seconds (UTC); ``label`` is 0 for a valid row or ``faults.LABEL[reason]``;
    ``variant`` is the unparsable variant or -1.
    """

    code: pa.Array
    meter_idx: IntArray
    interval_start: IntArray
    value_wh: IntArray
    sent_at: IntArray
    label: IntArray
    variant: IntArray

    def __len__(self) -> int:
        return len(self.meter_idx)

    def take(self, index: IntArray) -> ReadingRows:
        return ReadingRows(
            code=pc.take(self.code, pa.array(index, pa.int64())),
            meter_idx=self.meter_idx[index],
            interval_start=self.interval_start[index],
            value_wh=self.value_wh[index],
            sent_at=self.sent_at[index],
            label=self.label[index],
            variant=self.variant[index],
        )

    @staticmethod
    def concat(parts: list[ReadingRows]) -> ReadingRows:
        return ReadingRows(
            code=pa.concat_arrays([pc.cast(p.code, pa.string()) for p in parts]),
            meter_idx=np.concatenate([p.meter_idx for p in parts]),
            interval_start=np.concatenate([p.interval_start for p in parts]),
            value_wh=np.concatenate([p.value_wh for p in parts]),
            sent_at=np.concatenate([p.sent_at for p in parts]),
            label=np.concatenate([p.label for p in parts]),
            variant=np.concatenate([p.variant for p in parts]),
        )


@dataclass(frozen=True)
class Field:
    """One output column: text (CSV/JSON) or typed (Parquet) values; ``raw`` = a JSON number."""

    name: str
    values: pa.Array
    raw: bool = False


def quality_flags(rows: ReadingRows) -> pa.Array:
    """The drift column's values: ``E`` (estimated) for a deterministic few rows, else ``A``."""
    estimated = (rows.interval_start // 3600 + rows.meter_idx * 7) % 29 == 0
    return pa.array(np.where(estimated, "E", "A").astype(object), pa.string())


def _offset_text(offset_s: IntArray) -> pa.Array:
    return pa.array(
        np.where(offset_s == eutime.SUMMER_OFFSET_S, "+02:00", "+01:00").astype(object),
        pa.string(),
    )


class Dialect:
    """How one system names, codes and encodes its data. Subclasses fill in the details."""

    spec: SystemSpec

    def meter_ean(self, idx: IntArray) -> pa.Array:
        return ean18(self.spec.ean_prefix, idx)

    def meter_codes(self, idx: IntArray) -> pa.Array:
        raise NotImplementedError

    def unknown_meter_codes(self, random: IntArray) -> pa.Array:
        raise NotImplementedError

    def supply_point_ids(self, idx: IntArray) -> pa.Array:
        raise NotImplementedError

    def customer_ids(self, idx: IntArray) -> pa.Array:
        raise NotImplementedError

    def contract_ids(self, idx: IntArray) -> pa.Array:
        raise NotImplementedError

    def date_values(self, days: pa.Array) -> pa.Array:
        """Render a date32 column (text systems: text; nulls stay null)."""
        return pc.cast(days, pa.string())

    def price_values(self, price_e4: IntArray) -> Field:
        raise NotImplementedError

    def readings_fields(self, rows: ReadingRows, drift: bool) -> list[Field]:
        raise NotImplementedError

    def unparsable_rows(self, rows: ReadingRows, variant: int) -> np.ndarray:
        return np.asarray(rows.variant == variant)

    # -- files ---------------------------------------------------------------------------

    def file_name(self, entity: str, day: str, full_export: bool) -> str:
        if entity == "readings":
            return f"readings_{day}.{self.spec.extension}"
        kind = "full" if full_export else "changes"
        return f"{entity}_{kind}_{day}.{self.spec.extension}"

    def encode_readings(
        self, rows: ReadingRows, drift: bool, renamed: Mapping[str, str] | None = None
    ) -> bytes:
        return self.encode(self.renamed_fields(rows, drift, renamed), structure_broken=None)

    def renamed_fields(
        self, rows: ReadingRows, drift: bool, renamed: Mapping[str, str] | None
    ) -> list[Field]:
        """The readings' fields, with the column names in ``renamed`` (old -> new) renamed: a
        breaking schema change of the source."""
        fields = self.readings_fields(rows, drift)
        if not renamed:
            return fields
        return [Field(renamed.get(f.name, f.name), f.values, f.raw) for f in fields]

    def encode_master(self, entity: str, table: pa.Table) -> bytes:
        return self.encode(self.master_fields(entity, table), structure_broken=None)

    def encode(self, fields: list[Field], structure_broken: np.ndarray | None) -> bytes:
        raise NotImplementedError

    # -- master data ---------------------------------------------------------------------

    def master_fields(self, entity: str, table: pa.Table) -> list[Field]:
        names = MASTER_FIELDS[self.spec.name][entity]
        col = table.column
        if entity == "meters":
            idx = col("meter_idx").to_numpy()
            values = [self.meter_codes(idx), col("meter_ean"), col("region"),
                      self.supply_point_ids(col("supply_idx").to_numpy()),
                      self.date_values(col("installed_on")),
                      col("meter_type"), col("change")]
            if self.spec.name == "dutchgrid":  # the local code is the EAN itself
                values = values[:1] + values[2:]
            return [Field(n, _array(v)) for n, v in zip(names, values, strict=True)]
        if entity == "customers":
            idx = col("customer_idx").to_numpy()
            values = [self.customer_ids(idx), col("name"), col("email"), col("street"),
                      col("postal_code"), col("city"), col("iban"), col("segment"),
                      col("country"), col("change")]
            return [Field(n, _array(v)) for n, v in zip(names, values, strict=True)]
        if entity == "contracts":
            values = [self.contract_ids(col("contract_idx").to_numpy()),
                      self.customer_ids(col("customer_idx").to_numpy()),
                      self.supply_point_ids(col("supply_idx").to_numpy()), col("tariff_code"),
                      self.date_values(col("start_date")), self.date_values(col("end_date")),
                      col("change")]
            return [Field(n, _array(v)) for n, v in zip(names, values, strict=True)]
        if entity == "tariffs":
            price = self.price_values(col("price_e4").to_numpy())
            values = [col("tariff_code"), price.values, self.date_values(col("valid_from")),
                      self.date_values(col("valid_to")), col("change")]
            return [
                Field(n, _array(v), raw=(n == price.name))
                for n, v in zip(names, values, strict=True)
            ]
        raise ValueError(f"unknown entity {entity!r}")


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


class _CsvDialect(Dialect):
    separator: str = ","

    def encode(self, fields: list[Field], structure_broken: np.ndarray | None) -> bytes:
        header = self.separator.join(f.name for f in fields)
        if not fields or len(fields[0].values) == 0:
            return text_file_bytes(header, pa.array([], pa.string()))
        columns = [pc.fill_null(pc.cast(f.values, pa.string()), "") for f in fields]
        return text_file_bytes(header, join(list(columns), self.separator))

    def encode_readings(
        self, rows: ReadingRows, drift: bool, renamed: Mapping[str, str] | None = None
    ) -> bytes:
        fields = self.renamed_fields(rows, drift, renamed)
        header = self.separator.join(f.name for f in fields)
        columns = [pc.cast(f.values, pa.string()) for f in fields]
        if len(rows) == 0:
            return text_file_bytes(header, pa.array([], pa.string()))
        lines = join(list(columns), self.separator)
        # a structurally broken row: only the first three fields
        short = join(list(columns[:3]), self.separator)
        lines = choose(self.unparsable_rows(rows, UNPARSABLE_STRUCTURE), short, lines)
        return text_file_bytes(header, lines)


class NordGrid(_CsvDialect):
    spec = SYSTEM_BY_NAME["nordgrid"]
    separator = ","

    def meter_codes(self, idx: IntArray) -> pa.Array:
        return concat("DE", zpad(1_000_000_000 + idx * 7, 10))

    def unknown_meter_codes(self, random: IntArray) -> pa.Array:
        return concat("DE99", zpad(random % 10**8, 8))

    def supply_point_ids(self, idx: IntArray) -> pa.Array:
        return concat("5", zpad(1_000_000 + idx * 11, 10))

    def customer_ids(self, idx: IntArray) -> pa.Array:
        return concat("K", zpad(idx + 1, 9))

    def contract_ids(self, idx: IntArray) -> pa.Array:
        return concat("V", zpad(idx + 1, 9))

    def price_values(self, price_e4: IntArray) -> Field:
        return Field("price_eur_per_kwh", format_fixed(price_e4, 4, "."))

    def readings_fields(self, rows: ReadingRows, drift: bool) -> list[Field]:
        names = READINGS_FIELDS["nordgrid"]
        start = format_epoch_seconds(rows.interval_start, "%Y-%m-%dT%H:%M:%SZ")
        broken_time = concat(format_epoch_seconds(rows.interval_start, "%Y-%m-%d"), "T24:60:00Z")
        start = choose(self.unparsable_rows(rows, UNPARSABLE_TIME), broken_time, start)
        energy = format_fixed(rows.value_wh, 3, ".")
        energy = choose(self.unparsable_rows(rows, UNPARSABLE_ENERGY), "n/a", energy)
        values = [
            rows.code,
            start,
            constant(str(INTERVAL_MINUTES), len(rows)),
            energy,
            format_epoch_seconds(rows.sent_at, "%Y-%m-%dT%H:%M:%SZ"),
        ]
        fields = [Field(n, v) for n, v in zip(names, values, strict=True)]
        if drift:
            fields.append(Field(DRIFT_FIELD, quality_flags(rows)))
        return fields


class LuxPower(_CsvDialect):
    spec = SYSTEM_BY_NAME["luxpower"]
    separator = ";"

    def meter_codes(self, idx: IntArray) -> pa.Array:
        return concat("LU", zpad(10_000_000 + idx * 3, 8))

    def unknown_meter_codes(self, random: IntArray) -> pa.Array:
        return concat("LU99", zpad(random % 10**6, 6))

    def supply_point_ids(self, idx: IntArray) -> pa.Array:
        return concat("LU-SP-", zpad(idx + 1, 8))

    def customer_ids(self, idx: IntArray) -> pa.Array:
        return concat("KD", zpad(idx + 1, 7))

    def contract_ids(self, idx: IntArray) -> pa.Array:
        return concat("VT", zpad(idx + 1, 7))

    def date_values(self, days: pa.Array) -> pa.Array:
        return pc.strftime(days, format="%d.%m.%Y")

    def price_values(self, price_e4: IntArray) -> Field:
        return Field("Preis_EUR_kWh", format_fixed(price_e4, 4, ","))

    def readings_fields(self, rows: ReadingRows, drift: bool) -> list[Field]:
        names = READINGS_FIELDS["luxpower"]
        offset = eutime.utc_offset_seconds(rows.interval_start)
        local = rows.interval_start + offset
        sent_offset = eutime.utc_offset_seconds(rows.sent_at)
        time_of_day = format_epoch_seconds(local, "%H:%M")
        time_of_day = choose(self.unparsable_rows(rows, UNPARSABLE_TIME), "24:60", time_of_day)
        energy = format_fixed(rows.value_wh, 3, ",")
        energy = choose(self.unparsable_rows(rows, UNPARSABLE_ENERGY), "n/a", energy)
        values = [
            rows.code,
            format_epoch_seconds(local, "%d.%m.%Y"),
            time_of_day,
            _offset_text(offset),
            energy,
            concat(
                format_epoch_seconds(rows.sent_at + sent_offset, "%d.%m.%Y %H:%M:%S"),
                _offset_text(sent_offset),
            ),
        ]
        return [Field(n, v) for n, v in zip(names, values, strict=True)]


class Electra(Dialect):
    spec = SYSTEM_BY_NAME["electra"]

    def meter_codes(self, idx: IntArray) -> pa.Array:
        return zpad(30_000_000_000_000 + idx * 13, 14)

    def unknown_meter_codes(self, random: IntArray) -> pa.Array:
        return zpad(39_000_000_000_000 + random % 10**12, 14)

    def supply_point_ids(self, idx: IntArray) -> pa.Array:
        return concat("PL", zpad(100_000 + idx * 17, 12))

    def customer_ids(self, idx: IntArray) -> pa.Array:
        return concat("CL", zpad(idx + 1, 9))

    def contract_ids(self, idx: IntArray) -> pa.Array:
        return concat("CT", zpad(idx + 1, 9))

    def price_values(self, price_e4: IntArray) -> Field:
        return Field("prix_eur_kwh", format_fixed(price_e4, 4, "."), raw=True)

    def readings_fields(self, rows: ReadingRows, drift: bool) -> list[Field]:
        names = READINGS_FIELDS["electra"]
        offset = eutime.utc_offset_seconds(rows.interval_start)
        local = rows.interval_start + offset
        horodatage = format_epoch_seconds(local, "%Y-%m-%dT%H:%M:%S")
        broken = concat(format_epoch_seconds(local, "%Y-%m-%d"), "T24:60:00")
        horodatage = choose(self.unparsable_rows(rows, UNPARSABLE_TIME), broken, horodatage)
        energy = choose(
            self.unparsable_rows(rows, UNPARSABLE_ENERGY), '"n/a"', to_text(rows.value_wh)
        )
        saison = pa.array(
            np.where(offset == eutime.SUMMER_OFFSET_S, "E", "H").astype(object), pa.string()
        )
        sent_local = rows.sent_at + eutime.utc_offset_seconds(rows.sent_at)
        return [
            Field(names[0], rows.code),
            Field(names[1], horodatage),
            Field(names[2], saison),
            Field(names[3], constant(str(INTERVAL_MINUTES), len(rows)), raw=True),
            Field(names[4], energy, raw=True),
            Field(names[5], format_epoch_seconds(sent_local, "%Y-%m-%dT%H:%M:%S")),
        ]

    def encode(self, fields: list[Field], structure_broken: np.ndarray | None) -> bytes:
        if not fields or len(fields[0].values) == 0:
            return b""
        # The generator's values never need JSON escaping (see synthetic.py); the tests parse
        # every line with json.loads.
        pieces: list[pa.Array | str] = []
        for i, f in enumerate(fields):
            pieces.append(("{" if i == 0 else ", ") + json.dumps(f.name) + ": ")
            if f.raw:
                pieces.append(pc.fill_null(pc.cast(f.values, pa.string()), "null"))
            else:
                pieces.append(json_quote(f.values, escape=False))
        pieces.append("}")
        lines = concat(*pieces)
        if structure_broken is not None:
            lines = choose(structure_broken, pc.utf8_slice_codeunits(lines, 0, 45), lines)
        return text_file_bytes(None, lines)

    def encode_readings(
        self, rows: ReadingRows, drift: bool, renamed: Mapping[str, str] | None = None
    ) -> bytes:
        return self.encode(
            self.renamed_fields(rows, drift, renamed),
            self.unparsable_rows(rows, UNPARSABLE_STRUCTURE),
        )


class DutchGrid(Dialect):
    spec = SYSTEM_BY_NAME["dutchgrid"]

    def meter_codes(self, idx: IntArray) -> pa.Array:
        return self.meter_ean(idx)

    def unknown_meter_codes(self, random: IntArray) -> pa.Array:
        return ean18(DUTCHGRID_UNKNOWN_EAN_PREFIX, random % 10**10)

    def supply_point_ids(self, idx: IntArray) -> pa.Array:
        return ean18(DUTCHGRID_CONNECTION_EAN_PREFIX, idx)

    def customer_ids(self, idx: IntArray) -> pa.Array:
        return pa.array(100_000_000 + idx, pa.int64())

    def contract_ids(self, idx: IntArray) -> pa.Array:
        return pa.array(700_000_000 + idx, pa.int64())

    def date_values(self, days: pa.Array) -> pa.Array:
        return pc.cast(days, pa.date32())

    def price_values(self, price_e4: IntArray) -> Field:
        decimals = [Decimal(int(p)).scaleb(-4) for p in price_e4]
        return Field("price_eur_per_kwh", pa.array(decimals, pa.decimal128(10, 4)))

    def readings_fields(self, rows: ReadingRows, drift: bool) -> list[Field]:
        names = READINGS_FIELDS["dutchgrid"]
        values = [
            pc.cast(rows.code, pa.string()),
            pa.array(rows.interval_start * 1_000_000, pa.timestamp("us")),
            pa.array(np.full(len(rows), INTERVAL_MINUTES, dtype=np.int32), pa.int32()),
            pa.array(rows.value_wh / 1000.0, pa.float64()),
            pa.array(rows.sent_at * 1_000_000, pa.timestamp("us")),
        ]
        return [Field(n, v) for n, v in zip(names, values, strict=True)]

    def encode(self, fields: list[Field], structure_broken: np.ndarray | None) -> bytes:
        table = pa.table({f.name: f.values for f in fields})
        return parquet_bytes(table)


DIALECTS: Final[dict[str, Dialect]] = {
    "nordgrid": NordGrid(),
    "electra": Electra(),
    "dutchgrid": DutchGrid(),
    "luxpower": LuxPower(),
}
