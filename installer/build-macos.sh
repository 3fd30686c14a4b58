#!/usr/bin/env bash
# Builds dist/GauntletStudio-<version>-macos-<arch>.dmg on a Mac (Python 3.11+, Xcode command
# line tools), from uv.lock's exact versions, and checks the frozen app starts before packaging.
#
# Signing and notarisation run when their credentials are in the environment, and are skipped
# with a message when they are not (an unsigned app opens after right-click → Open):
#   MACOS_SIGN_IDENTITY      "Developer ID Application: Name (TEAMID)" in the login keychain
#                            (CI: MACOS_CERTIFICATE_P12_BASE64 + MACOS_CERTIFICATE_PASSWORD
#                            import it into a temporary keychain first)
#   MACOS_NOTARY_APPLE_ID, MACOS_NOTARY_TEAM_ID, MACOS_NOTARY_PASSWORD (app-specific password)
set -euo pipefail
cd "$(dirname "$0")/.."
dist=${DIST:-dist}
work=${WORK:-build}
.ci/setup-python dev,server
version=$(.venv/bin/python -c 'import re; print(re.search(r"^__version__ = \"(.+)\"", open("app/__init__.py").read(), re.M).group(1))')
arch=$(uname -m)
app="$dist/Gauntlet Studio.app"
dmg="$dist/GauntletStudio-$version-macos-$arch.dmg"

.venv/bin/python installer/render_icons.py "$work/icons" >/dev/null
iconutil -c icns -o "$work/icons/GauntletStudio.icns" "$work/icons/GauntletStudio.iconset"
LITELLM_LOCAL_MODEL_COST_MAP=True GAUNTLET_ICON_DIR="$work/icons" .venv/bin/pyinstaller \
  --noconfirm --log-level WARN --distpath "$dist" --workpath "$work/pyinstaller" \
  installer/gauntlet-studio.spec

if [ -n "${MACOS_CERTIFICATE_P12_BASE64:-}" ]; then
  keychain="$work/signing.keychain-db"
  keychain_password=$(uuidgen)
  echo "$MACOS_CERTIFICATE_P12_BASE64" | base64 --decode >"$work/certificate.p12"
  security create-keychain -p "$keychain_password" "$keychain"
  security set-keychain-settings -lut 3600 "$keychain"
  security unlock-keychain -p "$keychain_password" "$keychain"
  security import "$work/certificate.p12" -k "$keychain" -P "${MACOS_CERTIFICATE_PASSWORD:-}" \
    -T /usr/bin/codesign
  security set-key-partition-list -S apple-tool:,apple: -s -k "$keychain_password" "$keychain"
  security list-keychains -d user -s "$keychain" $(security list-keychains -d user | tr -d '"')
  rm -f "$work/certificate.p12"
fi
if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  echo "signing with $MACOS_SIGN_IDENTITY (hardened runtime)"
  codesign --force --deep --options runtime --timestamp \
    --entitlements installer/macos/entitlements.plist \
    --sign "$MACOS_SIGN_IDENTITY" "$app"
  codesign --verify --strict --verbose=2 "$app"
else
  echo "not signing: MACOS_SIGN_IDENTITY is not set (no Developer ID certificate); users open" \
    "the app the first time with right-click → Open"
fi

QT_QPA_PLATFORM=offscreen GAUNTLET_HOME=$(mktemp -d) \
  "$app/Contents/MacOS/GauntletStudio" studio --smoke-test

rm -f "$dmg"
staging=$(mktemp -d)
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"  # drag the app onto it to install
hdiutil create -volname "Gauntlet Studio" -srcfolder "$staging" -ov -format UDZO "$dmg"
rm -rf "$staging"
if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  codesign --sign "$MACOS_SIGN_IDENTITY" --timestamp "$dmg"
fi

if [ -n "${MACOS_SIGN_IDENTITY:-}" ] && [ -n "${MACOS_NOTARY_APPLE_ID:-}" ] &&
  [ -n "${MACOS_NOTARY_TEAM_ID:-}" ] && [ -n "${MACOS_NOTARY_PASSWORD:-}" ]; then
  echo "notarising $dmg (a few minutes)"
  xcrun notarytool submit "$dmg" --wait --apple-id "$MACOS_NOTARY_APPLE_ID" \
    --team-id "$MACOS_NOTARY_TEAM_ID" --password "$MACOS_NOTARY_PASSWORD"
  xcrun stapler staple "$dmg"
else
  echo "not notarising: needs a signed app and MACOS_NOTARY_APPLE_ID, MACOS_NOTARY_TEAM_ID and" \
    "MACOS_NOTARY_PASSWORD"
fi
echo "built $dmg"
