"""Renders the installers' app icon from resources/icons/app.svg with Qt (no other image tool):
PNGs for Linux (hicolor sizes) and the macOS iconset, and app.ico for the Windows executable.

    python installer/render_icons.py build/icons

The window's own icon is the plain line drawing; a desktop icon needs to stand out on any
wallpaper, so the drawing goes white on a rounded, coloured tile.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QByteArray, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPainterPath  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "resources" / "icons" / "app.svg"
TILE = QColor("#2f5d8a")
LINUX_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
# macOS iconset names: icon_<size>x<size>[@2x].png
MAC_SIZES = (16, 32, 128, 256, 512)


def render(size: int) -> QImage:
    svg = SOURCE.read_text(encoding="utf-8").replace("currentColor", "#ffffff")
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        raise SystemExit(f"{SOURCE}: Qt cannot read this SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    tile = QPainterPath()
    margin = size * 0.06
    tile.addRoundedRect(
        QRectF(margin, margin, size - 2 * margin, size - 2 * margin), size * 0.2, size * 0.2
    )
    painter.fillPath(tile, TILE)
    inset = size * 0.2
    renderer.render(painter, QRectF(inset, inset, size - 2 * inset, size - 2 * inset))
    painter.end()
    return image


def save(image: QImage, path: Path, fmt: str = "PNG") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(path), fmt):
        raise SystemExit(f"could not write {path} (is Qt's {fmt} image plugin there?)")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    out = Path(argv[0])
    _app = QGuiApplication.instance() or QGuiApplication([])
    for size in LINUX_SIZES:
        save(render(size), out / "hicolor" / f"{size}x{size}" / "apps" / "gauntlet-studio.png")
    for size in MAC_SIZES:
        iconset = out / "GauntletStudio.iconset"
        save(render(size), iconset / f"icon_{size}x{size}.png")
        save(render(size * 2), iconset / f"icon_{size}x{size}@2x.png")
    save(render(256), out / "app.ico", "ICO")
    save(render(256), out / "gauntlet-studio.png")
    print(f"icons written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
