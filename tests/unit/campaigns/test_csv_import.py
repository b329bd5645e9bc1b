"""Lead files: every common encoding and delimiter, the rejected-row report, E.164 and time zones."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings, strategies as st

from teleplex.campaigns.csv_import import ColumnMapping, FileUnreadable, decode, detect_delimiter, parse, zones_for

ROWS = [
    ["Teléfono", "Nombre", "Ciudad"],
    ["(212) 555-0100", "José Muñoz", "Nueva York"],
    ["312 555 0101", "Zoë, Ñandú", "Chicago"],  # a comma inside a value, quoted when comma-separated
    ["+44 20 7946 0018", "Œdipe €uro", "London"],
]
MAPPING = ColumnMapping(phone=("Teléfono",), first_name="Nombre")
ENCODINGS = {
    "utf-8": lambda t: t.encode("utf-8"),
    "utf-8 with BOM": lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    "utf-16 with BOM": lambda t: t.encode("utf-16"),
    "utf-16-le without BOM": lambda t: t.encode("utf-16-le"),
    "windows-1252": lambda t: t.encode("cp1252"),
    "latin-1": lambda t: t.replace("Œ", "O").replace("€", "E").encode("latin-1"),
}
DELIMITERS = [",", ";", "\t", "|"]


def render(rows: list[list[str]], delimiter: str, newline: str = "\r\n") -> str:
    def cell(v: str) -> str:
        return f'"{v}"' if delimiter in v or '"' in v else v

    return newline.join(delimiter.join(cell(v) for v in row) for row in rows) + newline


@pytest.mark.parametrize("delimiter", DELIMITERS, ids=["comma", "semicolon", "tab", "pipe"])
@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_every_encoding_and_delimiter_reads_the_same_leads(encoding, delimiter):
    data = ENCODINGS[encoding](render(ROWS, delimiter))
    result = parse(data, MAPPING, "US")
    assert result.delimiter == delimiter
    assert result.rejected == []
    assert [lead.phone for lead in result.leads] == ["+12125550100", "+13125550101", "+442079460018"]
    assert result.leads[0].first_name == "José Muñoz"
    assert result.leads[1].first_name == "Zoë, Ñandú"
    assert result.leads[0].attributes == {"Ciudad": "Nueva York"}


def test_decode_names_what_it_used():
    assert decode("a,b".encode("utf-8"))[1] == "utf-8"
    assert decode(codecs.BOM_UTF8 + b"a")[1] == "utf-8-sig"
    assert decode("a,b".encode("utf-16"))[1] == "utf-16"
    assert decode("Tél,b".encode("cp1252"))[1] == "windows-1252"
    assert decode(b"\x81\x8d")[1] == "latin-1"  # bytes Windows-1252 leaves undefined


def test_an_explicit_encoding_that_does_not_fit_is_refused():
    with pytest.raises(FileUnreadable) as err:
        decode("é".encode("cp1252"), "utf-8")
    assert err.value.field == "encoding"


def test_the_report_gives_each_rejected_row_its_line_and_reason():
    text = (
        "phone,alt,name\n"
        "2125550100,,A\n"  # 2 ok
        "12,,B\n"  # 3 invalid
        ",,C\n"  # 4 empty
        "\n"  # 5 blank: not a row
        '"212 555 0100",,"D\nwith a line break"\n'  # 6-7 duplicate of line 2
        "9999999999,3125550101,E\n"  # 8 first invalid, second valid: kept, dialing the valid one
        "2135550102,,F,extra\n"  # 9 too many fields
    )
    result = parse(text.encode(), ColumnMapping(phone=("phone", "alt"), first_name="name"), "US")
    assert [(r.line, r.reason) for r in result.rejected] == [
        (3, "invalid number"),
        (4, "empty: no phone number"),
        (6, "duplicate within file (first on line 2)"),
        (9, "has 4 fields but the header has 3"),
    ]
    assert [(r.code, r.params) for r in result.rejected] == [
        ("invalid_number", {}), ("empty", {}), ("duplicate_in_file", {"first_line": 2}),
        ("too_many_fields", {"fields": 4, "header": 3}),
    ]
    assert [lead.phone for lead in result.leads] == ["+12125550100", "+13125550101"]
    assert result.leads[1].line == 8 and result.rows == 6


def test_a_missing_mapped_column_refuses_the_whole_file():
    with pytest.raises(FileUnreadable) as err:
        parse(b"tel,name\n2125550100,A\n", ColumnMapping(phone=("phone",)), "US")
    assert err.value.field == "phone_column" and "tel" in str(err.value)


@pytest.mark.parametrize("data", [b"", b"\n\n", "a,b\n1\x00,2\n".encode()])
def test_empty_or_binary_files_are_refused(data):
    with pytest.raises(FileUnreadable):
        parse(data, ColumnMapping(phone=("a",)), "US")


def test_time_zone_comes_from_the_number_unless_a_column_overrides_it():
    text = "phone,tz\n2125550100,\n2135550102,America/Denver\n2125550101,Nowhere/Land\n"
    result = parse(text.encode(), ColumnMapping(phone=("phone",), timezone="tz"), "US")
    assert [lead.timezones for lead in result.leads] == [("America/New_York",), ("America/Denver",)]
    assert [(r.line, r.reason, r.value) for r in result.rejected] == [(4, "unknown time zone", "Nowhere/Land")]


def test_numbers_without_a_country_code_use_the_region():
    result = parse(b"phone\n0987654321\n", ColumnMapping(phone=("phone",)), "EC")
    assert [lead.phone for lead in result.leads] == ["+593987654321"]
    assert "America/Guayaquil" in result.leads[0].timezones  # and Galapagos: mobiles do not say where


def test_a_number_without_a_single_zone_keeps_every_candidate():
    zones = zones_for("+18005550100")  # toll-free: anywhere in the NANP
    assert len(zones) > 1


def test_the_delimiter_is_the_one_that_splits_lines_consistently():
    assert detect_delimiter("name,phone;x\nA,1;2\nB,3;4\n") in (",", ";")
    assert detect_delimiter("a|b|c\n1|2|3\n") == "|"
    assert detect_delimiter("single\n1\n") == ","


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_are_parsed_or_refused_never_crash(data):
    try:
        result = parse(data, ColumnMapping(phone=("phone",)), "US")
    except FileUnreadable:
        return
    assert len(result.leads) + len(result.rejected) <= result.rows


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["2125550100", "212-555-0100", "3125550101", "x", ""]), max_size=20))
def test_leads_are_unique_and_every_row_is_accounted_for(phones):
    text = "phone,n\n" + "".join(f"{p},{i}\n" for i, p in enumerate(phones))
    try:
        result = parse(text.encode(), ColumnMapping(phone=("phone",)), "US")
    except FileUnreadable as exc:  # no row at all, or none usable: every row is still in the report
        assert len(exc.rejected) == len(phones)
        return
    assert len({lead.phone for lead in result.leads}) == len(result.leads)
    assert len(result.leads) + len(result.rejected) == result.rows == len(phones)


def test_a_file_with_no_usable_row_is_refused_with_its_report():
    with pytest.raises(FileUnreadable) as err:
        parse(b"phone\nabc\n\n12\n", ColumnMapping(phone=("phone",)), "US")
    assert [(r.line, r.reason) for r in err.value.rejected] == [(2, "invalid number"), (4, "invalid number")]
    with pytest.raises(FileUnreadable, match="no rows"):
        parse(b"phone\n", ColumnMapping(phone=("phone",)), "US")
