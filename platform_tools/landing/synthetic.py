"""Synthetic people, addresses, IBANs and EAN-18 codes, vectorised and seeded.

Nothing here is real: names come from short fixed lists, e-mail domains use the reserved
``.example`` top-level domain, IBANs have valid ISO 13616 check digits but invented banks
and accounts. No value contains a double quote, a backslash, a comma or a semicolon, so the
feeds never need quoting.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from platform_tools.landing.arrowtext import IntArray, concat, zpad

# (display name, e-mail slug)
FIRST_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "DE": (("Anna", "anna"), ("Jürgen", "juergen"), ("Lena", "lena"), ("Maximilian", "max"),
           ("Sophie", "sophie"), ("Lukas", "lukas"), ("Marie", "marie"), ("Jörg", "joerg"),
           ("Katrin", "katrin"), ("Felix", "felix")),
    "FR": (("Hélène", "helene"), ("Louis", "louis"), ("Camille", "camille"), ("Jérôme", "jerome"),
           ("Chloé", "chloe"), ("Hugo", "hugo"), ("Manon", "manon"), ("Théo", "theo"),
           ("Inès", "ines"), ("Gabriel", "gabriel")),
    "NL": (("Daan", "daan"), ("Emma", "emma"), ("Sem", "sem"), ("Julia", "julia"),
           ("Bram", "bram"), ("Tess", "tess"), ("Luuk", "luuk"), ("Fenna", "fenna"),
           ("Ruben", "ruben"), ("Sanne", "sanne")),
    "LU": (("Luc", "luc"), ("Mia", "mia"), ("Gilles", "gilles"), ("Léa", "lea"),
           ("Tom", "tom"), ("Nora", "nora"), ("Ben", "ben"), ("Zoé", "zoe"),
           ("Jang", "jang"), ("Anouk", "anouk")),
}
LAST_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "DE": (("Müller", "mueller"), ("Schmidt", "schmidt"), ("Schneider", "schneider"),
           ("Fischer", "fischer"), ("Weber", "weber"), ("Meyer", "meyer"), ("Wagner", "wagner"),
           ("Becker", "becker"), ("Schäfer", "schaefer"), ("Hoffmann", "hoffmann")),
    "FR": (("Martin", "martin"), ("Bernard", "bernard"), ("Dubois", "dubois"),
           ("Thomas", "thomas"), ("Robert", "robert"), ("Richard", "richard"),
           ("Petit", "petit"), ("Durand", "durand"), ("Lefèvre", "lefevre"),
           ("Leroy", "leroy")),
    "NL": (("de Jong", "dejong"), ("Jansen", "jansen"), ("de Vries", "devries"),
           ("van den Berg", "vandenberg"), ("van Dijk", "vandijk"), ("Bakker", "bakker"),
           ("Janssen", "janssen"), ("Visser", "visser"), ("Smit", "smit"),
           ("Meijer", "meijer")),
    "LU": (("Schmit", "schmit"), ("Muller", "muller"), ("Weber", "weber"),
           ("Wagner", "wagner"), ("Hoffmann", "hoffmann"), ("Thill", "thill"),
           ("Schroeder", "schroeder"), ("Klein", "klein"), ("Reuter", "reuter"),
           ("Kremer", "kremer")),
}
STREETS: dict[str, tuple[str, ...]] = {
    "DE": ("Hauptstraße", "Schulstraße", "Gartenweg", "Bahnhofstraße", "Lindenallee",
           "Kirchplatz", "Bergstraße", "Am Markt"),
    "FR": ("rue de la Paix", "avenue Victor Hugo", "rue du Moulin", "boulevard Voltaire",
           "place de l'Église", "rue des Écoles", "chemin des Vignes", "rue Pasteur"),
    "NL": ("Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsplein", "Nieuwstraat",
           "Schoolstraat", "Julianalaan", "Markt"),
    "LU": ("rue de Hollerich", "avenue de la Liberté", "route d'Arlon", "rue du Fort",
           "boulevard Royal", "rue de Luxembourg", "Grand-Rue", "rue des Jardins"),
}
CITIES: dict[str, tuple[str, ...]] = {
    "DE": ("Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Düsseldorf",
           "Leipzig", "Nürnberg"),
    "FR": ("Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Orléans", "Lille",
           "Montpellier"),
    "NL": ("Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven", "Groningen",
           "Tilburg", "Almere"),
    "LU": ("Luxembourg", "Esch-sur-Alzette", "Differdange", "Dudelange", "Ettelbruck",
           "Diekirch", "Wiltz", "Echternach"),
}
EMAIL_DOMAINS: dict[str, str] = {
    "DE": "de.example",
    "FR": "fr.example",
    "NL": "nl.example",
    "LU": "lu.example",
}
# Invented bank identifiers per country (NL: four letters).
BANK_CODES: dict[str, tuple[str, ...]] = {
    "DE": ("37040044", "50010517", "10020030", "70150000"),
    "FR": ("30004", "20041", "30003", "10278"),
    "NL": ("ABNA", "INGB", "RABO", "SNSB"),
    "LU": ("001", "019", "030", "141"),
}
# ISO 13616 BBAN account digits after the bank code.
_ACCOUNT_DIGITS = {"DE": 10, "NL": 10, "LU": 13}


def _take(values: Sequence[str], index: IntArray) -> pa.Array:
    return pc.take(pa.array(list(values), pa.string()), pa.array(index, pa.int64()))


def person_names(
    rng: np.random.Generator, country: str, n: int
) -> tuple[pa.Array, IntArray, IntArray]:
    """Full names, plus the first- and last-name indexes (for e-mail slugs)."""
    first = rng.integers(0, len(FIRST_NAMES[country]), size=n)
    last = rng.integers(0, len(LAST_NAMES[country]), size=n)
    names = concat(
        _take([f for f, _ in FIRST_NAMES[country]], first),
        " ",
        _take([ln for ln, _ in LAST_NAMES[country]], last),
    )
    return names, first, last


def emails(country: str, first: IntArray, last: IntArray, number: IntArray) -> pa.Array:
    """``first.last.<number>@<cc>.example`` (unique through ``number``)."""
    return concat(
        _take([s for _, s in FIRST_NAMES[country]], first),
        ".",
        _take([s for _, s in LAST_NAMES[country]], last),
        ".",
        pc.cast(pa.array(number, pa.int64()), pa.string()),
        "@",
        EMAIL_DOMAINS[country],
    )


def addresses(rng: np.random.Generator, country: str, n: int) -> dict[str, pa.Array]:
    """Street with house number, postal code and city in the country's usual shape."""
    street_idx = rng.integers(0, len(STREETS[country]), size=n)
    house = rng.integers(1, 200, size=n).astype(np.int64)
    postal = rng.integers(1000, 10000, size=n).astype(np.int64)
    city_idx = rng.integers(0, len(CITIES[country]), size=n)
    streets = _take(STREETS[country], street_idx)
    house_text = pc.cast(pa.array(house), pa.string())
    if country == "DE" or country == "NL":
        street = concat(streets, " ", house_text)
    elif country == "FR":
        street = concat(house_text, " ", streets)
    else:  # LU writes "12, rue de Hollerich"
        street = concat(house_text, ", ", streets)
    if country == "DE" or country == "FR":
        postal_code = zpad(postal * 10 + rng.integers(0, 10, size=n).astype(np.int64), 5)
    elif country == "NL":
        letters = rng.integers(0, 26, size=(n, 2))
        pair = pa.array(
            np.char.add(
                np.array([chr(65 + i) for i in range(26)])[letters[:, 0]],
                np.array([chr(65 + i) for i in range(26)])[letters[:, 1]],
            ).astype(object),
            pa.string(),
        )
        postal_code = concat(pc.cast(pa.array(postal), pa.string()), " ", pair)
    else:
        postal_code = concat("L-", pc.cast(pa.array(postal), pa.string()))
    return {"street": street, "postal_code": postal_code, "city": _take(CITIES[country], city_idx)}


def _digit_columns(values: IntArray, width: int) -> list[IntArray]:
    return [(values // 10 ** (width - 1 - i)) % 10 for i in range(width)]


def _letter_values(text: str) -> list[int]:
    return [ord(c) - 55 if c.isalpha() else int(c) for c in text]


def ibans(rng: np.random.Generator, country: str, n: int) -> pa.Array:
    """IBANs with valid ISO 13616 mod-97 check digits."""
    banks = BANK_CODES[country]
    bank_idx = rng.integers(0, len(banks), size=n)
    bank_text = _take(banks, bank_idx)
    bank_values = np.array([_letter_values(b) for b in banks], dtype=np.int64)[bank_idx]
    columns: list[IntArray] = [bank_values[:, i] for i in range(bank_values.shape[1])]
    if country == "FR":
        branch = rng.integers(0, 100_000, size=n).astype(np.int64)
        account = rng.integers(0, 10**11, size=n).astype(np.int64)
        bank_num = np.array([int(b) for b in banks], dtype=np.int64)[bank_idx]
        rib_key = 97 - (89 * bank_num + 15 * branch + 3 * account) % 97
        columns += _digit_columns(branch, 5) + _digit_columns(account, 11)
        columns += _digit_columns(rib_key, 2)
        rest = concat(zpad(branch, 5), zpad(account, 11), zpad(rib_key, 2))
    else:
        width = _ACCOUNT_DIGITS[country]
        account = rng.integers(0, 10**width, size=n).astype(np.int64)
        columns += _digit_columns(account, width)
        rest = zpad(account, width)
    # Move the country code and "00" to the end, letters as two digits each (A = 10).
    tail = [np.full(n, v, dtype=np.int64) for v in _letter_values(country)] + [
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
    ]
    check = 98 - _mod97_mixed(columns, tail, n)
    return concat(country, zpad(check, 2), bank_text, rest)


def _mod97_mixed(bban: list[IntArray], tail: list[IntArray], n: int) -> IntArray:
    """mod 97 of the decimal number written by ``bban + tail`` (values >= 10 take two digits),
    folded nine digits at a time."""
    digits: list[IntArray] = []
    for column in bban + tail:
        if int(column.max(initial=0)) >= 10:
            digits += [column // 10, column % 10]
        else:
            digits.append(column)
    remainder = np.zeros(n, dtype=np.int64)
    for start in range(0, len(digits), 9):
        group = digits[start : start + 9]
        value = np.zeros(n, dtype=np.int64)
        for digit in group:
            value = value * 10 + digit
        remainder = (remainder * 10 ** len(group) + value) % 97
    return remainder


def iban_is_valid(iban: str) -> bool:
    """The ISO 13616 mod-97 check (used by the tests)."""
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(v) for v in _letter_values(rearranged))) % 97 == 1


def gs1_check_digit(body: IntArray, width: int = 17) -> IntArray:
    """GS1 mod-10 check digit of ``width``-digit bodies (weights 3,1,3,... from the right)."""
    total = np.zeros(len(body), dtype=np.int64)
    for position in range(width):  # position 0 = rightmost digit
        digit = (body // 10**position) % 10
        total += digit * (3 if position % 2 == 0 else 1)
    return (10 - total % 10) % 10


def ean18(prefix: int, body: IntArray) -> pa.Array:
    """18-digit GSRN/EAN codes ``<prefix 7 digits><body 10 digits><check digit>``."""
    full_body = np.int64(prefix) * 10**10 + body
    check = gs1_check_digit(full_body)
    return zpad(full_body * 10 + check, 18)


def ean18_is_valid(code: str) -> bool:
    """The GS1 check-digit test of an 18-digit code (used by the tests)."""
    if len(code) != 18 or not code.isdigit():
        return False
    body = np.array([int(code[:17])], dtype=np.int64)
    return int(gs1_check_digit(body)[0]) == int(code[17])
