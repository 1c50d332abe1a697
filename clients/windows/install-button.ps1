<#
.SYNOPSIS
  Installs the help-desk button: the launcher (kaseya-button.ps1, beside this script), its
  settings, and a "Get IT help" shortcut on the desktop and in the Start menu that runs it. The
  launcher reads the computer's facts when the button is pressed (docs/button-link.md).
.DESCRIPTION
  Deployable by an RMM: run as SYSTEM or an administrator it installs into Program Files and
  writes the shortcut to the public desktop and the common Start menu (every user gets it); run
  as a user, into that user's AppData, desktop and Start menu. Running it again replaces both.
  -Email sets the e-mail for computers whose users have no UPN (workgroup PCs).
.EXAMPLE
  .\install-button.ps1 -Url https://abc123.execute-api.eu-west-1.amazonaws.com -Key k-123
.EXAMPLE
  .\install-button.ps1 -Uninstall
#>
param(
  [string]$Url,
  [string]$Key,
  [string]$Email,
  [string]$Title = 'Get IT help',
  [switch]$Uninstall
)
$ErrorActionPreference = 'Stop'

$me = [Security.Principal.WindowsIdentity]::GetCurrent()
$machine = $me.IsSystem -or ([Security.Principal.WindowsPrincipal]$me).IsInRole('Administrators')
$dir = if ($machine) { Join-Path $env:ProgramFiles 'kaseya-button' } else { Join-Path $env:LOCALAPPDATA 'kaseya-button' }
$desktop = if ($machine) { [Environment]::GetFolderPath('CommonDesktopDirectory') } else { [Environment]::GetFolderPath('Desktop') }
$startMenu = if ($machine) { [Environment]::GetFolderPath('CommonPrograms') } else { [Environment]::GetFolderPath('Programs') }
$name = $Title -replace '[^A-Za-z0-9 ._-]', '-'
$shortcuts = @((Join-Path $desktop "$name.lnk"), (Join-Path $startMenu "$name.lnk"))
# What earlier versions wrote: a link with the facts of the day it was installed.
$old = @((Join-Path $desktop "$name.url"), (Join-Path $startMenu "$name.url"))

if ($Uninstall) {
  $shortcuts + $old | ForEach-Object { Remove-Item -LiteralPath $_ -ErrorAction SilentlyContinue }
  Remove-Item -LiteralPath $dir -Recurse -ErrorAction SilentlyContinue
  "removed: $(($shortcuts + $dir) -join ', ')"
  return
}
if (-not $Url -or -not $Key) { throw 'install-button.ps1: -Url and -Key are needed' }

New-Item -ItemType Directory -Force -Path $dir | Out-Null
$launcher = Join-Path $dir 'kaseya-button.ps1'
Copy-Item -LiteralPath (Join-Path $PSScriptRoot 'kaseya-button.ps1') -Destination $launcher -Force
# Read by every user (Program Files is); the button key is on every desktop anyway (docs/SECURITY.md).
Set-Content -LiteralPath (Join-Path $dir 'kaseya-button.conf') -Encoding UTF8 -Value "url=$Url`nkey=$Key`nemail=$Email"
"installed: $dir"

$shell = New-Object -ComObject WScript.Shell
foreach ($s in $shortcuts) {
  New-Item -ItemType Directory -Force -Path (Split-Path $s) | Out-Null
  $lnk = $shell.CreateShortcut($s)
  $lnk.TargetPath = Join-Path $env:SystemRoot 'System32\WindowsPowerShell\v1.0\powershell.exe'
  $lnk.Arguments = "-NoProfile -ExecutionPolicy Bypass -STA -WindowStyle Hidden -File `"$launcher`""
  $lnk.IconLocation = (Join-Path $env:SystemRoot 'System32\shell32.dll') + ',23'
  $lnk.WindowStyle = 7
  $lnk.Save()
  "installed: $s"
}
$old | ForEach-Object { Remove-Item -LiteralPath $_ -ErrorAction SilentlyContinue }
