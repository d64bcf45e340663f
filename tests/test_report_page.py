"""The page's figures at their natural size, and the printed copy of the page (make pdf)."""
import base64
import io

import pytest
from PIL import Image

from helpers.report import page, pdf


def png(path, width: int, height: int, dpi: float | None):
    image = Image.new("RGB", (width, height), "white")
    image.save(path, **({"dpi": (dpi, dpi)} if dpi else {}))
    return path


def embedded_width(uri: str) -> int:
    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as image:
        return image.width


def test_a_figure_s_natural_size_is_its_inches_at_96_px(tmp_path):
    assert page.natural_size(png(tmp_path / "f.png", 1000, 600, 200)) == (480, 288)  # 5 in x 3 in
    assert page.natural_size(png(tmp_path / "g.png", 1400, 700, 200)) == (672, 336)  # 7 in x 3.5 in


def test_a_png_without_a_resolution_is_refused_naming_the_file(tmp_path):
    with pytest.raises(ValueError, match=r"bare\.png: the PNG records no resolution"):
        page.natural_size(png(tmp_path / "bare.png", 1000, 600, None))


def test_a_200_dpi_figure_is_embedded_unscaled_and_a_finer_one_at_216_dpi(tmp_path):
    assert embedded_width(page.embed_png(png(tmp_path / "f.png", 1100, 700, 200))) == 1100
    # 5.5 in at 600 dpi: 528 CSS px, embedded at 2.25 image px each
    assert embedded_width(page.embed_png(png(tmp_path / "h.png", 3300, 2100, 600))) == 1188


def test_the_printed_copy_drops_links_to_files_and_keeps_links_within_the_page():
    html = ('<a href="#figure-2">2</a> <a class="zoom" href="figures/likert.svg" title="Open"><img src="data:x"></a> '
            '<a href="notebooks/01_clean.html">01_clean</a> <p>&lt;a href="http://x"&gt;</p>')
    assert pdf.for_print(html) == ('<a href="#figure-2">2</a> <a class="zoom" title="Open"><img src="data:x"></a> '
                                   '<a>01_clean</a> <p>&lt;a href="http://x"&gt;</p>')


def test_the_print_footer_s_cohort_name_cannot_end_the_style_sheet():
    quoted = page.css_string('cohort "x</style><script>')
    assert quoted.startswith('"') and quoted.endswith('"') and quoted.count('"') == 2
    assert "<" not in quoted and ">" not in quoted and quoted.startswith('"cohort \\22 x\\3c ')
