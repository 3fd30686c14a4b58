#!/usr/bin/env bash
# Builds the Linux installers from uv.lock's exact versions:
#   dist/GauntletStudio/                          the one-folder app
#   dist/GauntletStudio-<version>-linux-<arch>.tar.gz  it, with a .desktop file, icon and menu installer
#   dist/gauntlet-studio_<version>_<arch>.deb     for Debian/Ubuntu (dpkg-deb)
# and checks that the frozen app starts (studio --smoke-test, offscreen) before packaging it.
# An AppImage is not built: appimagetool comes only from GitHub, not from apt or PyPI.
# Environment: DIST (default dist), GAUNTLET_BUNDLE_NO_PRUNE=1 (keep all the hooks collect).
set -euo pipefail
# Say which step failed: a bare non-zero exit from a build script tells nobody anything.
trap 'echo "$(basename "$0"): failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."
dist=${DIST:-dist}
work=${WORK:-build}
.ci/setup-python dev,server
version=$(.venv/bin/python -c 'import re,sys; print(re.search(r"^__version__ = \"(.+)\"", open("app/__init__.py").read(), re.M).group(1))')
arch=$(uname -m)

.venv/bin/python installer/render_icons.py "$work/icons" >/dev/null
# litellm must use the price map it ships with, not fetch one while PyInstaller imports it.
LITELLM_LOCAL_MODEL_COST_MAP=True GAUNTLET_ICON_DIR="$work/icons" .venv/bin/pyinstaller \
  --noconfirm --log-level WARN --distpath "$dist" --workpath "$work/pyinstaller" \
  installer/gauntlet-studio.spec
app="$dist/GauntletStudio"

smoke_home=$(mktemp -d)
QT_QPA_PLATFORM=offscreen GAUNTLET_HOME=$smoke_home "$app/GauntletStudio" studio --smoke-test
rm -rf "$smoke_home"

installer/linux/build-deb.sh "$app" "$version" "$work/icons" "$dist"
# The tarball also carries the menu entry, its icon and a script that installs both.
cp installer/linux/gauntlet-studio.desktop installer/linux/install-desktop-entry.sh "$app/"
cp "$work/icons/gauntlet-studio.png" "$app/"
tarball="$dist/GauntletStudio-$version-linux-$arch.tar.gz"
tar -C "$dist" -czf "$tarball" GauntletStudio
echo "built $tarball"
