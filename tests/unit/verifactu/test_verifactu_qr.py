"""QR URL against the AEAT_QR examples (v0.5.0, sections 4, 5.1 and 8) and the QR symbol."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from chalicelib.verifactu import qr_matrix, qr_svg, qr_url

REPO = Path(__file__).resolve().parents[3]


def test_section_8_1_test_environment_example() -> None:
    assert (
        qr_url("89890001K", "12345678-G33", "01-09-2024", "241.4", "test")
        == "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=89890001K"
        "&numserie=12345678-G33&fecha=01-09-2024&importe=241.4"
    )


def test_section_8_3_production_example() -> None:
    assert (
        qr_url("89890001K", "12345678-G33", "01-09-2024", "241.4", "production")
        == "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQR?nif=89890001K"
        "&numserie=12345678-G33&fecha=01-09-2024&importe=241.4"
    )


def test_section_4_url_encoding_example_with_ampersand() -> None:
    url = qr_url("89890001K", "12345678&G33", "01-01-2024", "241.4", "test")
    assert url == (
        "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=89890001K"
        "&numserie=12345678%26G33&fecha=01-01-2024&importe=241.4"
    )
    # and the AEAT's counter-example (not encoded) is what we must never produce
    assert "numserie=12345678&G33" not in url


def test_spaces_and_other_reserved_characters_are_percent_encoded() -> None:
    numserie = "A 2025/07+1?#=%"
    url = qr_url("B12345674", numserie, date(2025, 3, 10), Decimal("1234.5"), "test")
    query = urlsplit(url).query
    assert "numserie=A%202025%2F07%2B1%3F%23%3D%25&" in query
    assert " " not in url and "+" not in query
    assert dict(parse_qsl(query)) == {
        "nif": "B12345674",
        "numserie": numserie,
        "fecha": "10-03-2025",
        "importe": "1234.50",
    }
    assert [name for name, _ in parse_qsl(query)] == ["nif", "numserie", "fecha", "importe"]


def test_decimal_importe_uses_the_record_format_and_negative_amounts() -> None:
    assert qr_url("B12345674", "R-1", date(2025, 3, 12), Decimal("-24.2"), "test").endswith(
        "&importe=-24.20"
    )


@pytest.mark.parametrize("environment", ["prod", "TEST", "", "sandbox", None])
def test_unknown_environment_is_rejected(environment: object) -> None:
    with pytest.raises(ValueError, match="environment"):
        qr_url("89890001K", "1", "01-09-2024", "1", environment)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("nif", "numserie", "fecha", "importe"),
    [
        ("891K", "1", "01-09-2024", "1"),  # nif not 9 characters
        ("89890001K", "Ñ-1", "01-09-2024", "1"),  # not ASCII 32-126
        ("89890001K", "x" * 61, "01-09-2024", "1"),  # over 60 characters
        ("89890001K", "1", "2024-09-01", "1"),  # not DD-MM-AAAA
        ("89890001K", "1", "01-09-2024", "7,2"),  # "," separator (AEAT error 2005)
        ("89890001K", "1", "01-09-2024", "1.234"),  # 3 decimals
    ],
)
def test_invalid_parameters_are_rejected(nif: str, numserie: str, fecha: str, importe: str) -> None:
    with pytest.raises(ValueError):
        qr_url(nif, numserie, fecha, importe, "test")


URL = (
    "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQR?nif=89890001K"
    "&numserie=12345678-G33&fecha=01-09-2024&importe=241.4"
)


def test_matrix_has_a_four_module_quiet_zone_and_level_m() -> None:
    matrix = qr_matrix(URL)
    n = len(matrix)
    assert all(len(row) == n for row in matrix)
    for i in range(4):
        assert not any(matrix[i]) and not any(matrix[n - 1 - i])
        assert not any(row[i] for row in matrix) and not any(row[n - 1 - i] for row in matrix)
    # Finder pattern starts right after the quiet zone.
    assert matrix[4][4:11] == [True] * 7
    # Format information (ISO/IEC 18004, masked with 101010000010010): its two leading bits
    # are the error correction level XOR "10"; level M (00) gives dark, light at row 8,
    # columns 0 and 1 of the symbol (L -> dark, dark; Q -> light, dark; H -> light, light).
    assert matrix[4 + 8][4 + 0] is True
    assert matrix[4 + 8][4 + 1] is False


def test_svg_is_sized_in_mm_and_draws_every_dark_module() -> None:
    matrix = qr_matrix(URL)
    n = len(matrix)
    svg = qr_svg(URL, size_mm=35)
    # 35 mm is the symbol's; the 4-module quiet zone is added around it (AEAT_QR 2 and 3)
    total = round(35 * n / (n - 8), 3)
    assert f'width="{total:g}mm" height="{total:g}mm"' in svg
    assert f'viewBox="0 0 {n} {n}"' in svg
    assert svg.count("h1v1h-1z") == sum(cell for row in matrix for cell in row)
    with pytest.raises(ValueError):
        qr_svg(URL, size_mm=50)
    with pytest.raises(ValueError):
        qr_svg(URL, size_mm=25.4)  # the old symbol size: under the minimum


def test_longest_urls_still_fit_with_a_two_mm_quiet_zone() -> None:
    from chalicelib.verifactu.qr import qr_printed_mm, qr_symbol_mm

    worst = qr_url("B12345674", "&" * 60, "10-03-2025", "-999999999999.99", "production")
    n = len(qr_matrix(worst))
    symbol = qr_symbol_mm(n)
    assert 30 <= symbol <= 40 and symbol * 4 / (n - 8) >= 2
    assert qr_printed_mm(n, symbol) > symbol
    m = len(qr_matrix(URL))
    assert qr_symbol_mm(m) == 30 and qr_printed_mm(m, 30) == 30 * m / (m - 8)
    assert f'width="{round(30 * m / (m - 8), 3):g}mm"' in qr_svg(URL)


def test_importing_the_package_and_building_urls_stays_light() -> None:
    code = """
import sys

class Spy:
    attempts = []
    def find_spec(self, name, path=None, target=None):
        if name == "PIL" or name.startswith("PIL."):
            Spy.attempts.append(name)
        return None

sys.meta_path.insert(0, Spy())
import chalicelib.verifactu as v
url = v.qr_url("89890001K", "12345678-G33", "01-09-2024", "241.4", "test")
loaded = [m for m in sys.modules if m == "PIL" or m.startswith("PIL.")]
assert not loaded and not Spy.attempts, (loaded, Spy.attempts)
assert "qrcode" not in sys.modules
v.qr_svg(url)
assert "qrcode" in sys.modules
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
