"""digits-fid on a folder with an unreadable or huge image: one line naming the file, exit 2, and a huge one is
refused from its header, before any pixel is decoded."""
import shutil
import struct
import zlib

import pytest

from tests.metrics.digits_cli import VALID_SIZE
from tests.metrics.digits_cli import run_digits_fid as _fid


def _png_header(width, height):
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(64))) + chunk(b"IEND", b""))


def _truncated(path):
    data = path.read_bytes()
    return data[:len(data) // 2]


@pytest.mark.parametrize("content, text", [
    (lambda good: b"this is text, not an image\n", "not a readable image"),
    (lambda good: b"", "not a readable image"),
    (_truncated, "not a readable image"),
    (lambda good: _png_header(20000, 20000), "not a readable image"),
    (lambda good: _png_header(9000, 9000), "9000x9000 pixels; the digits metric needs 32x32 images"),
])
def test_unreadable_and_huge_images_are_one_line(digits, tmp_path, content, text):
    folder = tmp_path / "fake"
    folder.mkdir()
    for i, src in enumerate(sorted((digits / "valid").rglob("*.png"))[:VALID_SIZE]):
        shutil.copy(src, folder / f"{i}.png")
    good = folder / "0.png"
    good.write_bytes(content(good))
    result = _fid(folder, "--net", tmp_path / "unused.pt")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {good}: ") and text in lines[0], lines
    assert not (tmp_path / "unused.pt").exists()  # refused before the network is trained or loaded
