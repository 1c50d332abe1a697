<#
.SYNOPSIS
  The help-desk button, run when it is pressed, as the signed-in user: reads this computer's
  facts now, puts a screenshot of the screen on the clipboard, and opens the help page with the
  facts in the link (docs/button-link.md). install-button.ps1 installs it and its settings.
.EXAMPLE
  kaseya-button.ps1 -PrintLink
  Prints the link; opens nothing and takes no screenshot.
#>
param([switch]$PrintLink)
$ErrorActionPreference = 'Stop'

# The settings beside this script (url=, key=, email= lines), written by install-button.ps1.
$conf = Join-Path $PSScriptRoot 'kaseya-button.conf'
$settings = @{}
foreach ($line in (Get-Content -LiteralPath $conf -ErrorAction SilentlyContinue)) {
  $i = $line.IndexOf('=')
  if ($i -gt 0) { $settings[$line.Substring(0, $i)] = $line.Substring($i + 1) }
}
if (-not $settings.url -or -not $settings.key) {
  throw "kaseya-button: no help-desk address or key in $conf; run install-button.ps1 -Url <api> -Key <key>"
}

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

# Labelled lines the help page reads its summary from (OS, Uptime, Disk). Numbers in strings
# are written the invariant way (a dot), whatever the computer's language.
function Get-Diagnostics {
  $os = Get-CimInstance Win32_OperatingSystem
  $up = (Get-Date) - $os.LastBootUpTime
  $disk = Get-CimInstance Win32_LogicalDisk -Filter "DeviceID='$env:SystemDrive'"
  $lines = @(
    "OS: $($os.Caption) $($os.Version)"
    "Uptime: $($up.Days) days $($up.Hours) hours $($up.Minutes) minutes"
    "Disk: $([math]::Round($disk.FreeSpace / 1GB, 1)) GB free of $([math]::Round($disk.Size / 1GB, 1)) GB on $env:SystemDrive"
    "Memory: $([math]::Round($os.TotalVisibleMemorySize / 1MB, 1)) GB total, $([math]::Round($os.FreePhysicalMemory / 1MB, 1)) GB available"
    'Most memory:'
  )
  $lines += Get-Process | Sort-Object WorkingSet64 -Descending | Select-Object -First 5 |
    ForEach-Object { "  $([math]::Round($_.WorkingSet64 / 1MB)) MB $($_.ProcessName)" }
  $lines += "Read: $(Get-Date -Format 'yyyy-MM-dd HH:mm:ss zzz')"
  ($lines -join "`n") + "`n"
}

# The screen at the press, on the clipboard (.NET; needs -STA, which the shortcut gives). The
# press works without it; the image leaves the clipboard only if the user pastes it.
function Copy-Screenshot {
  try {
    Add-Type -AssemblyName System.Windows.Forms, System.Drawing
    # Whole pixels on a scaled display, not the part a scaled process would see.
    Add-Type -Name Dpi -Namespace KaseyaButton -MemberDefinition '[DllImport("user32.dll")] public static extern bool SetProcessDPIAware();'
    [KaseyaButton.Dpi]::SetProcessDPIAware() | Out-Null
    $b = [Windows.Forms.SystemInformation]::VirtualScreen
    $bmp = New-Object Drawing.Bitmap $b.Width, $b.Height
    $g = [Drawing.Graphics]::FromImage($bmp)
    $g.CopyFromScreen($b.Location, [Drawing.Point]::Empty, $b.Size)
    [Windows.Forms.Clipboard]::SetImage($bmp)
    $g.Dispose(); $bmp.Dispose()
    $true
  } catch { $false }
}

# The signed-in user (never SYSTEM): the UPN, else the computer's e-mail setting (workgroup PCs).
$upn = $null; $displayName = $null
if (-not [Security.Principal.WindowsIdentity]::GetCurrent().IsSystem) {
  try { $upn = (whoami /upn 2>$null) } catch { }
  try { $displayName = ([adsisearcher]"(samaccountname=$env:USERNAME)").FindOne().Properties.displayname } catch { }
  if (-not $displayName) { $displayName = (Get-CimInstance Win32_UserAccount -Filter "Name='$env:USERNAME'" -ErrorAction SilentlyContinue).FullName }
}
$email = if ($upn) { $upn } else { $settings.email }
$ip = $null; $mac = $null
$main = Get-NetIPConfiguration -ErrorAction SilentlyContinue | Where-Object { $_.IPv4DefaultGateway } | Select-Object -First 1
if ($main) {
  $ip = ($main.IPv4Address | Select-Object -First 1).IPAddress
  $mac = (Get-NetAdapter -InterfaceIndex $main.InterfaceIndex).MacAddress
}

$link = New-ButtonLink $settings.url ([ordered]@{
  key = $settings.key; email = $email; name = $displayName; hostname = $env:COMPUTERNAME; ip = $ip; mac = $mac
})
# The diagnostics as base64url, cut so that the whole link stays within 6 KB (6144 bytes).
$room = [math]::Floor((6144 - $link.Length - 6 - 13) / 4) * 3
$bytes = [Text.Encoding]::UTF8.GetBytes((Get-Diagnostics))
if ($room -gt 64) {
  $bytes = [byte[]]$bytes[0..([math]::Min($bytes.Length, $room) - 1)]
  $link += '&diag=' + [Convert]::ToBase64String($bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_')
}
if ($PrintLink) { $link; return }
if (Copy-Screenshot) { $link += '&screenshot=1' }
Start-Process $link
