# Builds dist\GauntletStudio-windows.zip (run in PowerShell with Python 3.11+ on PATH).
$ErrorActionPreference = "Stop"
Set-Location (Split-Path -Parent $PSScriptRoot)
# Exactly the versions in uv.lock (the same pinned uv as .ci/uv-path), never re-resolved.
python -m pip install -q --target .cache\uv-0.13.9 uv==0.13.9
$env:UV_PROJECT_ENVIRONMENT = ".venv"
$env:UV_PYTHON_DOWNLOADS = "never"
$uv = (Get-ChildItem -Recurse -Filter uv.exe .cache\uv-0.13.9 | Select-Object -First 1).FullName
& $uv sync --frozen --quiet --extra dev --extra server
if ($LASTEXITCODE -ne 0) { throw "installing the locked packages failed" }
.\.venv\Scripts\pyinstaller --noconfirm --clean --distpath dist --workpath build\pyinstaller installer\gauntlet-studio.spec
$env:QT_QPA_PLATFORM = "offscreen"
$env:GAUNTLET_HOME = Join-Path $env:TEMP ("gauntlet-smoke-" + [guid]::NewGuid())
& .\dist\GauntletStudio\GauntletStudio.exe studio --smoke-test
if ($LASTEXITCODE -ne 0) { throw "smoke test failed" }
Compress-Archive -Force -Path dist\GauntletStudio -DestinationPath dist\GauntletStudio-windows.zip
Write-Host "built dist\GauntletStudio-windows.zip"
