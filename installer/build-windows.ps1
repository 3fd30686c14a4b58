# Builds dist\GauntletStudio-<version>-windows-x64-setup.exe (Inno Setup) and a portable .zip,
# from uv.lock's exact versions, and checks the frozen app starts before packaging it.
# Run in PowerShell with Python 3.11+ on PATH and Inno Setup 6 installed (choco install innosetup).
#
# Code signing runs when a certificate is in the environment, and is skipped with a message
# when it is not (Windows SmartScreen then warns on first start: "More info" -> "Run anyway"):
#   WINDOWS_CERTIFICATE_PFX_BASE64   the code-signing certificate (.pfx), base64
#   WINDOWS_CERTIFICATE_PASSWORD     its password
$ErrorActionPreference = "Stop"
Set-Location (Split-Path -Parent $PSScriptRoot)
# Exactly the versions in uv.lock (the same pinned uv as .ci/uv-path), never re-resolved.
python -m pip install -q --target .cache\uv-0.13.9 uv==0.13.9
$env:UV_PROJECT_ENVIRONMENT = ".venv"
$env:UV_PYTHON_DOWNLOADS = "never"
$uv = (Get-ChildItem -Recurse -Filter uv.exe .cache\uv-0.13.9 | Select-Object -First 1).FullName
& $uv sync --frozen --quiet --extra dev --extra server
if ($LASTEXITCODE -ne 0) { throw "installing the locked packages failed" }
$version = (Select-String -Path app\__init__.py -Pattern '^__version__ = "(.+)"').Matches[0].Groups[1].Value

.\.venv\Scripts\python installer\render_icons.py build\icons
if ($LASTEXITCODE -ne 0) { throw "rendering the icons failed" }
$env:LITELLM_LOCAL_MODEL_COST_MAP = "True"
$env:GAUNTLET_ICON_DIR = "build\icons"
.\.venv\Scripts\pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build\pyinstaller installer\gauntlet-studio.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }

# The console twin (gauntlet.exe) shares the bundle; the windowed GauntletStudio.exe has no
# console, so the smoke test runs through gauntlet.exe and must print its verdict.
$env:QT_QPA_PLATFORM = "offscreen"
$env:GAUNTLET_HOME = Join-Path $env:TEMP ("gauntlet-smoke-" + [guid]::NewGuid())
& .\dist\GauntletStudio\gauntlet.exe studio --smoke-test
if ($LASTEXITCODE -ne 0) { throw "smoke test failed" }
# The windowed executable must survive a run with no stdout/stderr at all.
$windowed = Start-Process -FilePath .\dist\GauntletStudio\GauntletStudio.exe -ArgumentList "studio","--smoke-test" -Wait -PassThru
if ($windowed.ExitCode -ne 0) { throw "the windowed app's smoke test failed (exit $($windowed.ExitCode))" }
Remove-Item Env:QT_QPA_PLATFORM

function Sign-Files([string[]]$Files) {
  if (-not $env:WINDOWS_CERTIFICATE_PFX_BASE64) {
    Write-Host "not signing: WINDOWS_CERTIFICATE_PFX_BASE64 is not set (no code-signing certificate)"
    return
  }
  $pfx = Join-Path $env:TEMP "gauntlet-signing.pfx"
  [IO.File]::WriteAllBytes($pfx, [Convert]::FromBase64String($env:WINDOWS_CERTIFICATE_PFX_BASE64))
  try {
    $signtool = (Get-ChildItem "${env:ProgramFiles(x86)}\Windows Kits\10\bin" -Recurse -Filter signtool.exe |
      Where-Object { $_.FullName -match "x64" } | Select-Object -Last 1).FullName
    & $signtool sign /f $pfx /p $env:WINDOWS_CERTIFICATE_PASSWORD /fd SHA256 /tr http://timestamp.digicert.com /td SHA256 $Files
    if ($LASTEXITCODE -ne 0) { throw "signtool failed" }
  } finally {
    Remove-Item $pfx -ErrorAction SilentlyContinue
  }
}

Sign-Files @("dist\GauntletStudio\GauntletStudio.exe", "dist\GauntletStudio\gauntlet.exe")
$iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe"
& $iscc /Q "/DAppVersion=$version" "/DSourceDir=$PWD\dist\GauntletStudio" "/DOutputDir=$PWD\dist" installer\windows\gauntlet-studio.iss
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
$setup = "dist\GauntletStudio-$version-windows-x64-setup.exe"
Sign-Files @($setup)
Compress-Archive -Force -Path dist\GauntletStudio -DestinationPath "dist\GauntletStudio-$version-windows-x64.zip"
Write-Host "built $setup and the portable zip"
