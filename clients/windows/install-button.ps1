<#
.SYNOPSIS
  Puts a "Get IT help" shortcut on the desktop and in the Start menu that opens the help page
  with this computer's facts in the link (docs/button-link.md).
.DESCRIPTION
  Deployable by an RMM: run as SYSTEM it writes to the public desktop and the common Start menu
  (every user gets it); run as a user, to that user's. Running it again replaces the shortcut.
.EXAMPLE
  .\install-button.ps1 -Url https://abc123.execute-api.eu-west-1.amazonaws.com -Key k-123
.EXAMPLE
  .\install-button.ps1 -Uninstall
#>
param(
  [string]$Url,
  [string]$Key,
  [string]$Title = 'Get IT help',
  [switch]$Uninstall
)
$ErrorActionPreference = 'Stop'

$system = [Security.Principal.WindowsIdentity]::GetCurrent().IsSystem
$desktop = if ($system) { [Environment]::GetFolderPath('CommonDesktopDirectory') } else { [Environment]::GetFolderPath('Desktop') }
$startMenu = if ($system) { [Environment]::GetFolderPath('CommonPrograms') } else { [Environment]::GetFolderPath('Programs') }
$name = ($Title -replace '[^A-Za-z0-9 ._-]', '-') + '.url'
$shortcuts = @((Join-Path $desktop $name), (Join-Path $startMenu $name))

if ($Uninstall) {
  $shortcuts | ForEach-Object { Remove-Item -LiteralPath $_ -ErrorAction SilentlyContinue }
  "removed: $($shortcuts -join ', ')"
  return
}
if (-not $Url -or -not $Key) { throw 'install-button.ps1: -Url and -Key are needed' }

# The link, built as docs/button-link.md says: fields in this order, empty ones left out, each
# value encoded by [uri]::EscapeDataString (RFC 3986: letters, digits and -._~ stay).
function New-ButtonLink([string]$Url, [System.Collections.Specialized.OrderedDictionary]$Fields) {
  $parts = foreach ($f in $Fields.Keys) {
    if ($Fields[$f]) { "$f=$([uri]::EscapeDataString([string]$Fields[$f]))" }
  }
  # The API's base URL or the stack's TicketsUrl output (.../tickets): both lead to the help page.
  $base = $Url.TrimEnd('/') -replace '/tickets$', ''
  "$base/help#" + ($parts -join '&')
}

# This computer's facts. As SYSTEM there is no signed-in user: the shortcut then carries none,
# and the page asks for them (and remembers them).
$upn = $null; $displayName = $null
if (-not $system) {
  try { $upn = (whoami /upn 2>$null) } catch { }
  try { $displayName = ([adsisearcher]"(samaccountname=$env:USERNAME)").FindOne().Properties.displayname } catch { }
  if (-not $displayName) { $displayName = (Get-CimInstance Win32_UserAccount -Filter "Name='$env:USERNAME'" -ErrorAction SilentlyContinue).FullName }
}
$ip = $null; $mac = $null
$main = Get-NetIPConfiguration -ErrorAction SilentlyContinue | Where-Object { $_.IPv4DefaultGateway } | Select-Object -First 1
if ($main) {
  $ip = ($main.IPv4Address | Select-Object -First 1).IPAddress
  $mac = (Get-NetAdapter -InterfaceIndex $main.InterfaceIndex).MacAddress
}

$link = New-ButtonLink $Url ([ordered]@{
  key = $Key; email = $upn; name = $displayName; hostname = $env:COMPUTERNAME; ip = $ip; mac = $mac
})
foreach ($s in $shortcuts) {
  New-Item -ItemType Directory -Force -Path (Split-Path $s) | Out-Null
  Set-Content -LiteralPath $s -Encoding ASCII -Value "[InternetShortcut]`r`nURL=$link`r`nIconIndex=0`r`n"
  "installed: $s"
}
