#!/usr/bin/env bash
# For the .tar.gz: adds Gauntlet Studio to your desktop's application menu (for you only),
# pointing at wherever you unpacked it. Run it from the unpacked folder:
#   ./install-desktop-entry.sh          add the menu entry and icon
#   ./install-desktop-entry.sh --remove take them away again
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
apps=${XDG_DATA_HOME:-$HOME/.local/share}/applications
icons=${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/256x256/apps
if [ "${1:-}" = --remove ]; then
  rm -f "$apps/gauntlet-studio.desktop" "$icons/gauntlet-studio.png"
  echo "removed the Gauntlet Studio menu entry"
  exit 0
fi
mkdir -p "$apps" "$icons"
cp "$here/gauntlet-studio.png" "$icons/gauntlet-studio.png"
sed "s|^Exec=.*|Exec=\"$here/GauntletStudio\" studio %f|" "$here/gauntlet-studio.desktop" \
  >"$apps/gauntlet-studio.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$apps" || true
echo "added Gauntlet Studio to your application menu (it runs $here/GauntletStudio)"
