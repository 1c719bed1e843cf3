; Windows installer for Health Trainer Desk (issue 17), NSIS 3 (makensis; Debian's `nsis` package
; compiles it on Linux too). Built by installer/build.py, which passes:
;   -DVERSION=0.1.0 -DSRCDIR=dist\htdesk -DOUTFILE=dist\htdesk-0.1.0-setup.exe -DICON=... -DLICENCES=...
;
; Per-user by default: no administrator rights, installed in %LOCALAPPDATA%\Programs\Health Trainer Desk,
; Start-menu shortcut and "Apps & features" entry for this user only.
; Machine-wide, silent (IT teams; from an elevated prompt or a deployment tool running as SYSTEM):
;   htdesk-0.1.0-setup.exe /S /ALLUSERS            -> C:\Program Files\Health Trainer Desk
;   htdesk-0.1.0-setup.exe /S /ALLUSERS /D=C:\Apps\HTDesk   (/D= last, no quotes)
; Silent per-user: /S. Uninstall silently: "<folder>\uninstall.exe" /S
; Exit code 740 when /ALLUSERS is given without administrator rights.
; The uninstaller removes the program only: every user's data folder (records, key file, backups,
; logs: %LOCALAPPDATA%\HealthTrainerDesk) is left in place, and it says so.

Unicode true
!include MUI2.nsh
!include LogicLib.nsh
!include FileFunc.nsh

!ifndef VERSION
  !error "Build with installer/build.py (VERSION, SRCDIR, OUTFILE, ICON and LICENCES must be defined)"
!endif
!ifndef SRCDIR
  !error "SRCDIR not defined"
!endif
!ifndef OUTFILE
  !error "OUTFILE not defined"
!endif
!ifndef ICON
  !error "ICON not defined"
!endif
!ifndef LICENCES
  !error "LICENCES not defined"
!endif

!define APPNAME "Health Trainer Desk"
!define PUBLISHER "Health Trainer Desk"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\HealthTrainerDesk"
; the per-user data folder (db/paths.py), written literally: under /ALLUSERS $LOCALAPPDATA would be ProgramData's
!define DATA_FOLDER "%LOCALAPPDATA%\HealthTrainerDesk"
!define KEPT_NOTE "Your records, key file, backups and log (each user's ${DATA_FOLDER} folder) are NOT removed. \
Copy the backups somewhere safe before you delete that folder yourself."

Name "${APPNAME}"
OutFile "${OUTFILE}"
RequestExecutionLevel user
InstallDir "$LOCALAPPDATA\Programs\${APPNAME}"
SetCompressor /SOLID lzma
ManifestDPIAware true
BrandingText "${APPNAME} ${VERSION}"

; File details of the installer itself (right-click > Properties > Details)
VIProductVersion "${VERSION}.0"
VIFileVersion "${VERSION}.0"
VIAddVersionKey /LANG=1033 "ProductName" "${APPNAME}"
VIAddVersionKey /LANG=1033 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=1033 "FileDescription" "${APPNAME} setup"
VIAddVersionKey /LANG=1033 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "LegalCopyright" "See LICENSES.txt"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_WELCOMEPAGE_TEXT "This installs ${APPNAME} ${VERSION} for you only: no administrator rights are needed.$\r$\n$\r$\nYour records are kept in ${DATA_FOLDER}, apart from the program, so a later update or uninstall leaves them alone.$\r$\n$\r$\nClick Next to continue."
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_RUN "$INSTDIR\HealthTrainerDesk.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${APPNAME}"
!insertmacro MUI_PAGE_FINISH

!define MUI_UNCONFIRMPAGE_TEXT_TOP "${APPNAME} will be removed from this PC. ${KEPT_NOTE}"
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Function .onInit
  SetShellVarContext current
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/ALLUSERS" $R1
  ${IfNot} ${Errors}
    UserInfo::GetAccountType
    Pop $R2
    ${If} $R2 != "Admin"
      MessageBox MB_OK|MB_ICONSTOP "Installing for all users needs administrator rights. Run the installer from an elevated prompt, or without /ALLUSERS to install for yourself only." /SD IDOK
      SetErrorLevel 740
      Quit
    ${EndIf}
    ${If} $INSTDIR == "$LOCALAPPDATA\Programs\${APPNAME}"   ; not changed with /D=
      StrCpy $INSTDIR "$PROGRAMFILES64\${APPNAME}"
    ${EndIf}
    SetShellVarContext all
  ${EndIf}
FunctionEnd

Section "Health Trainer Desk" main
  SectionIn RO
  SetOutPath "$INSTDIR"
  ; an update: the old program files go first (never the data folder, which is elsewhere)
  RMDir /r "$INSTDIR\_internal"
  File /r "${SRCDIR}\*"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateShortcut "$SMPROGRAMS\${APPNAME}.lnk" "$INSTDIR\HealthTrainerDesk.exe" "" "$INSTDIR\HealthTrainerDesk.exe" 0 \
    SW_SHOWNORMAL "" "Case management for health trainer services"
  ; "Apps & features" (this user's, or the PC's with /ALLUSERS: SHCTX follows SetShellVarContext)
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayName" "${APPNAME}"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr SHCTX "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\HealthTrainerDesk.exe,0"
  WriteRegStr SHCTX "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr SHCTX "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr SHCTX "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD SHCTX "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD SHCTX "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD SHCTX "${UNINST_KEY}" "EstimatedSize" "$0"
SectionEnd

Function un.onInit
  SetShellVarContext current
  ; installed for all users: the key is the PC's
  ReadRegStr $R0 HKLM "${UNINST_KEY}" "InstallLocation"
  ${If} $R0 == $INSTDIR
    SetShellVarContext all
  ${EndIf}
FunctionEnd

Section "Uninstall"
  Delete "$SMPROGRAMS\${APPNAME}.lnk"
  ; the program's own files only: never RMDir /r the install folder (someone may have chosen a folder with
  ; other things in it), and never the data folder
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\htdesk.exe"
  Delete "$INSTDIR\HealthTrainerDesk.exe"
  Delete "$INSTDIR\LICENSES.txt"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey SHCTX "${UNINST_KEY}"
  SetShellVarContext current
  DetailPrint "${KEPT_NOTE}"
SectionEnd

Function un.onUninstSuccess
  SetShellVarContext current
  MessageBox MB_OK|MB_ICONINFORMATION "${APPNAME} has been removed. ${KEPT_NOTE}" /SD IDOK
FunctionEnd
