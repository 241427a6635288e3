#!/usr/bin/env bash
# Renders the app and tray icons from icon.svg and tray.svg into every size the Tauri bundler and
# the tray need. Offline: rsvg-convert (librsvg2-bin) and Debian's python3-pil for .ico and .icns.
#   bash icons/build.sh        (the PNGs, .ico and .icns are committed; rerun after editing an SVG)
set -euo pipefail
cd "$(dirname "$0")"
png() { rsvg-convert -w "$2" -h "$2" "$1" -o "$3"; }
png icon.svg 32 32x32.png
png icon.svg 64 64x64.png
png icon.svg 128 128x128.png
png icon.svg 256 128x128@2x.png
png icon.svg 512 icon.png
png tray.svg 64 tray.png
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
png icon.svg 1024 "$tmp/1024.png"
for s in 16 24 48; do png icon.svg "$s" "$tmp/$s.png"; done
/usr/bin/python3 - "$tmp" <<'PY'
import sys
from PIL import Image
tmp = sys.argv[1]
big = Image.open(f"{tmp}/1024.png")
# Each .ico size from its own rendering, not a downscale of the largest.
sizes = {16: f"{tmp}/16.png", 24: f"{tmp}/24.png", 32: "32x32.png", 48: f"{tmp}/48.png",
         64: "64x64.png", 128: "128x128.png", 256: "128x128@2x.png"}
imgs = [Image.open(p).convert("RGBA") for p in sizes.values()]
imgs[-1].save("icon.ico", sizes=[(s, s) for s in sizes], append_images=imgs[:-1])
big.save("icon.icns")
PY
