; Inno Setup script for Gauntlet Studio (installer/build-windows.ps1 runs it):
;   ISCC.exe /DAppVersion=0.1.0 /DSourceDir=dist\GauntletStudio /DOutputDir=dist installer\windows\gauntlet-studio.iss
; Installs for the current user by default (no administrator needed), adds a Start menu entry,
; optionally a desktop icon and `gauntlet` on the user's PATH, and an uninstaller.
#ifndef AppVersion
  #error Pass the version: /DAppVersion=x.y.z
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\GauntletStudio"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif

[Setup]
AppId={{6F1B7C2E-3D4A-4B8E-9A51-2C7D0E5F9A13}
AppName=Gauntlet Studio
AppVersion={#AppVersion}
AppPublisher=Gauntlet Studio
DefaultDirName={autopf}\Gauntlet Studio
DefaultGroupName=Gauntlet Studio
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=GauntletStudio-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\build\icons\app.ico
UninstallDisplayIcon={app}\GauntletStudio.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesEnvironment=yes

[Tasks]
Name: "desktopicon"; Description: "Create a desktop icon"; Flags: unchecked
Name: "addtopath"; Description: "Add the gauntlet command to PATH (for the terminal)"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Gauntlet Studio"; Filename: "{app}\GauntletStudio.exe"
Name: "{group}\Uninstall Gauntlet Studio"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Gauntlet Studio"; Filename: "{app}\GauntletStudio.exe"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; \
  ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\GauntletStudio.exe"; Description: "Open Gauntlet Studio"; \
  Flags: nowait postinstall skipifsilent

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Current: string;
begin
  if not RegQueryStringValue(HKCU, 'Environment', 'Path', Current) then
    Current := '';
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Current) + ';') = 0;
end;
