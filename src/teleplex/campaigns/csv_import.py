"""Reading a lead file: encoding and delimiter detected, phones validated to E.164, every rejected row explained.

Pure: bytes in, parsed leads and a report out. The service stores the result; nothing here touches a database.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezones

DELIMITERS = (",", ";", "\t", "|")
MAX_COLUMNS = 100
MAX_NAME = 100
MAX_VALUE = 2000
MAX_ZONES_TEXT = 1000  # the leads.timezones column
UNKNOWN_ZONE = "Etc/Unknown"  # what phonenumbers answers when a number gives no hint


class FileUnreadable(ValueError):
    """The file as a whole cannot be read: wrong encoding, no header, a mapped column missing."""

    def __init__(self, message: str, field: str = "body", rejected: list[Rejection] | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.rejected = rejected or []


@dataclass(frozen=True)
class ColumnMapping:
    """Which columns of the file mean what; every other column is kept as a custom attribute."""

    phone: tuple[str, ...]
    first_name: str | None = None
    last_name: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class ParsedLead:
    line: int
    phone: str  # E.164: the number dialed first
    alt_phones: tuple[str, ...]
    first_name: str | None
    last_name: str | None
    timezones: tuple[str, ...]  # candidate IANA zones; empty when the number gives no hint
    attributes: dict[str, str]


@dataclass(frozen=True)
class Rejection:
    """A row left out of an import: `code` stable (a client says it in its language, `params` filling in the
    specifics), `reason` the same in English."""

    line: int
    code: str
    reason: str
    value: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def as_detail(self) -> dict[str, Any]:
        return {"line": self.line, "code": self.code, "reason": self.reason, "value": self.value,
                "params": self.params}  # fmt: skip


@dataclass
class ParsedFile:
    encoding: str
    delimiter: str
    columns: list[str]
    leads: list[ParsedLead] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    rows: int = 0


# --- encoding --------------------------------------------------------------------------------------------

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The file's text and the encoding it was read with.

    Deterministic rules rather than statistical guessing, because the encodings people export from
    spreadsheets are few: a BOM says it; else UTF-16 shows as NUL bytes in every other position; else
    strict UTF-8; else Windows-1252 (a superset of Latin-1's printable range), Latin-1 for its five gaps.
    """
    if encoding is not None:
        try:
            return data.decode(encoding), encoding
        except (LookupError, UnicodeDecodeError) as exc:
            raise FileUnreadable(f"encoding: the file cannot be read as {encoding}: {exc}", "encoding") from None
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError:
                raise FileUnreadable(f"the file starts with a {name} byte-order mark but is not {name}") from None
    sample = data[:4000]
    if len(sample) >= 2 and sample.count(0) > 0 and sample.count(0) >= len(sample) // 4:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        name = "utf-16-le" if odd > even else "utf-16-be"
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            raise FileUnreadable("the file looks like UTF-16 but is not valid UTF-16") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


# --- delimiter -------------------------------------------------------------------------------------------


def _fields_per_line(lines: list[str], delimiter: str) -> list[int]:
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    try:
        return [len(row) for row in reader if row]
    except csv.Error:
        return []


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the header into the most columns and the next lines into as many.

    csv.Sniffer guesses from character frequencies and is easily fooled by commas inside names; a
    consistent column count across the first lines is what a real delimiter gives."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if not lines:
        return ","
    best, best_score = ",", (-1, -1)
    for delim in DELIMITERS:
        counts = _fields_per_line(lines, delim)
        if not counts or counts[0] < 2:
            continue
        consistent = sum(1 for c in counts if c == counts[0])
        score = (consistent, counts[0])
        if score > best_score:
            best, best_score = delim, score
    return best


# --- numbers and zones -----------------------------------------------------------------------------------


def normalise(raw: str, region: str) -> str | None:
    """E.164 for a valid number (valid for its country, not merely of a plausible length); else None."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def zones_for(e164: str) -> tuple[str, ...]:
    """Candidate time zones of a number (one for most, several for a whole country such as +1 toll-free)."""
    try:
        zones = phone_timezones.time_zones_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return ()
    found = tuple(sorted(z for z in zones if z != UNKNOWN_ZONE))
    return found if len(" ".join(found)) <= MAX_ZONES_TEXT else ()  # never seen; then the campaign's zone


def known_zone(name: str) -> bool:
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# --- the file --------------------------------------------------------------------------------------------


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on (quoted fields may span lines); line 1 is the header."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise FileUnreadable(f"line {reader.line_num}: {exc}") from None
        yield start, row
        start = reader.line_num + 1


def _column(header: list[str], name: str, what: str) -> int:
    wanted = name.strip().casefold()
    for i, col in enumerate(header):
        if col.strip().casefold() == wanted:
            return i
    raise FileUnreadable(f"{what}: the file has no column '{name}' (columns: {', '.join(header)})", what)


def parse(data: bytes, mapping: ColumnMapping, region: str, *, encoding: str | None = None,
          delimiter: str | None = None, max_rows: int = 100_000) -> ParsedFile:
    """Read a whole lead file. Rows that cannot become a lead are reported, never silently dropped."""
    text, used = decode(data, encoding)
    if "\x00" in text:
        raise FileUnreadable("the file contains NUL characters; is it a spreadsheet rather than CSV?")
    delim = delimiter or detect_delimiter(text)
    records = _records(text, delim)
    try:
        _, header = next(records)
    except StopIteration:
        raise FileUnreadable("the file is empty: a header line naming the columns is needed") from None
    header = [h.strip() for h in header]
    if len(header) > MAX_COLUMNS:
        raise FileUnreadable(f"the file has {len(header)} columns; at most {MAX_COLUMNS} are accepted")
    if any(not h for h in header) or len({h.casefold() for h in header}) != len(header):
        raise FileUnreadable("every column needs a distinct, non-empty name in the header line")
    if any(len(h) > MAX_NAME for h in header):
        raise FileUnreadable(f"column names may have at most {MAX_NAME} characters")
    phone_idx = [_column(header, p, "phone_column") for p in mapping.phone]
    named = {
        key: _column(header, col, f"{key}_column")
        for key, col in (("first_name", mapping.first_name), ("last_name", mapping.last_name),
                         ("timezone", mapping.timezone))
        if col
    }  # fmt: skip
    used_idx = set(phone_idx) | set(named.values())
    result = ParsedFile(encoding=used, delimiter=delim, columns=header)
    seen: dict[str, int] = {}
    for line, row in records:
        if not any(cell.strip() for cell in row):
            continue  # blank lines are not rows
        result.rows += 1
        if result.rows > max_rows:
            raise FileUnreadable(f"the file has more than {max_rows} rows; split it")
        lead = _lead(line, row, header, phone_idx, named, used_idx, region, result.rejected, seen)
        if lead is not None:
            seen[lead.phone] = line
            result.leads.append(lead)
    if result.rows == 0:
        raise FileUnreadable("the file has a header line but no rows")
    if not result.leads:
        first = result.rejected[0]
        raise FileUnreadable(f"no row could be used; line {first.line}: {first.reason}", rejected=result.rejected)
    return result


def _lead(line: int, row: list[str], header: list[str], phone_idx: list[int], named: dict[str, int],
          used_idx: set[int], region: str, rejected: list[Rejection], seen: dict[str, int]) -> ParsedLead | None:
    if len(row) > len(header):
        rejected.append(Rejection(line, "too_many_fields", f"has {len(row)} fields but the header has {len(header)}",
                                  params={"fields": len(row), "header": len(header)}))
        return None
    row = row + [""] * (len(header) - len(row))
    raw_phones = [row[i].strip() for i in phone_idx]
    if not any(raw_phones):
        rejected.append(Rejection(line, "empty", "empty: no phone number"))
        return None
    phones: list[str] = []
    for raw in raw_phones:
        e164 = normalise(raw, region) if raw else None
        if e164 is not None and e164 not in phones:
            phones.append(e164)
    if not phones:
        bad = next(p for p in raw_phones if p)
        rejected.append(Rejection(line, "invalid_number", "invalid number", bad[:100]))
        return None
    if phones[0] in seen:
        rejected.append(Rejection(line, "duplicate_in_file", f"duplicate within file (first on line {seen[phones[0]]})",
                                  phones[0], {"first_line": seen[phones[0]]}))
        return None
    values = {k: row[i].strip() for k, i in named.items()}
    for key in ("first_name", "last_name"):
        if len(values.get(key, "")) > MAX_NAME:
            rejected.append(Rejection(line, "name_too_long", f"{key} longer than {MAX_NAME} characters",
                                      params={"column": key, "max": MAX_NAME}))
            return None
    zone = values.get("timezone", "")
    if zone and not known_zone(zone):
        rejected.append(Rejection(line, "unknown_time_zone", "unknown time zone", zone[:100]))
        return None
    attributes = {header[i]: row[i].strip() for i in range(len(header)) if i not in used_idx and row[i].strip()}
    if any(len(v) > MAX_VALUE for v in attributes.values()):
        rejected.append(Rejection(line, "value_too_long", f"a value is longer than {MAX_VALUE} characters",
                                  params={"max": MAX_VALUE}))
        return None
    return ParsedLead(
        line=line,
        phone=phones[0],
        alt_phones=tuple(phones[1:]),
        first_name=values.get("first_name") or None,
        last_name=values.get("last_name") or None,
        timezones=(zone,) if zone else zones_for(phones[0]),
        attributes=attributes,
    )
