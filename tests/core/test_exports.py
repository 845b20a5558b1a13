"""Issue 28, point 6: CSV formula injection. A cell a spreadsheet would evaluate gets a leading quote."""

from __future__ import annotations

import csv
import io

import pytest

from core.exports import SafeCsvWriter, spreadsheet_safe


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
    ],
)
def test_a_cell_a_spreadsheet_would_evaluate_is_quoted(value, cell):
    assert spreadsheet_safe(value) == cell


@pytest.mark.parametrize("value", ["Around the World", "", "-3", "+1.5", "-0.25e3", "a=b", 120.0, -3, None])
def test_text_numbers_and_other_values_are_left_as_they_are(value):
    assert spreadsheet_safe(value) == value


def test_the_writer_quotes_each_cell_of_a_row():
    out = io.StringIO()

    SafeCsvWriter(out).writerow([1, "=1+1", "fine", "-4"])

    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["1", "'=1+1", "fine", "-4"]
