#!/usr/bin/env bash
# Wraps a onedir build into a .deb with the Debian tools (dpkg-deb):
#   /opt/gauntlet-studio/            the app (GauntletStudio + _internal/)
#   /usr/bin/gauntlet                symlink: the CLI on every user's PATH
#   /usr/share/applications/         the desktop entry
#   /usr/share/icons/hicolor/*/apps/ the icon
# Depends: the system libraries the bundle links against but does not carry (X11/xcb, GL,
# fontconfig...), found with readelf and mapped to this machine's packages with dpkg -S.
# Usage: installer/linux/build-deb.sh ONEDIR VERSION ICON_DIR OUT_DIR
set -euo pipefail
# Say which step failed: a bare non-zero exit from a build script tells nobody anything.
trap 'echo "$(basename "$0"): failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR
onedir=$1 version=$2 icons=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" "$stage/DEBIAN"
cp -a "$onedir" "$stage/opt/gauntlet-studio"
ln -s /opt/gauntlet-studio/GauntletStudio "$stage/usr/bin/gauntlet"
install -m 644 "$here/gauntlet-studio.desktop" "$stage/usr/share/applications/"
mkdir -p "$stage/usr/share/icons"
cp -a "$icons/hicolor" "$stage/usr/share/icons/"

# Which shared libraries the bundle needs from the system.
provided=$(find "$stage/opt/gauntlet-studio" -name '*.so*' -printf '%f\n' | sort -u)
# readelf fails on the executable files that are not ELF (the agentic templates' solve.sh and
# test.sh keep their x bit): that says nothing about the libraries, so it must not end the build.
needed=$(find "$stage/opt/gauntlet-studio" -type f \( -name '*.so*' -o -perm -u+x \) -print0 |
  { xargs -0 readelf -d 2>/dev/null || true; } | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u)
packages=()
for lib in $needed; do
  grep -qxF "$lib" <<<"$provided" && continue
  # This machine's copy for its own word size (not an i386 one of a multiarch system). awk reads
  # to the end: quitting early would kill ldconfig with SIGPIPE, and pipefail would end the build.
  path=$(ldconfig -p | awk -v lib="$lib" '!found && $1 == lib && /x86-64|AArch64|64bit/ {print $NF; found = 1}')
  if [ -z "$path" ]; then
    echo "build-deb: warning: $lib is needed but not installed here; it is not in Depends" >&2
    continue
  fi
  owner=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null || true)
  owner=${owner%%:*}
  [ -n "$owner" ] && packages+=("$owner")
done
depends=$(printf '%s\n' "${packages[@]}" | sort -u | paste -sd, | sed 's/,/, /g')

installed_kb=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$installed_kb/" \
  -e "s/@DEPENDS@/$depends/" "$here/control.in" >"$stage/DEBIAN/control"
mkdir -p "$out"
deb="$out/gauntlet-studio_${version}_${arch}.deb"
# xz makes the smallest download; GAUNTLET_DEB_COMPRESSION=gzip builds in seconds instead of
# minutes (the CI smoke test uses it: the files inside are the same).
dpkg-deb --root-owner-group -Z"${GAUNTLET_DEB_COMPRESSION:-xz}" --build "$stage" "$deb" >/dev/null
echo "built $deb (installed size $((installed_kb / 1024)) MiB; depends: $depends)"
