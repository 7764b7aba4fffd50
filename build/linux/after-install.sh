#!/bin/bash
# Run by dpkg after installing the Moat .deb (electron-builder fills in the names in braces).
# Puts the desktop binary and the `moat` command line on PATH, and sets up Chromium's sandbox
# the way this machine supports it.

ln -sf '/opt/${sanitizedProductName}/${executable}' '/usr/bin/${executable}'
ln -sf '/opt/${sanitizedProductName}/resources/cli/moat.sh' '/usr/bin/moat'

# Chromium sandboxes its renderers with unprivileged user namespaces where the kernel allows
# them; only elsewhere does its setuid helper need the setuid bit.
if [ -L /proc/self/ns/user ] && unshare --user true 2>/dev/null; then
  chmod 0755 '/opt/${sanitizedProductName}/chrome-sandbox' || true
else
  chmod 4755 '/opt/${sanitizedProductName}/chrome-sandbox' || true
fi

# Ubuntu 24.04 and later allow user namespaces only to programs with an AppArmor profile that
# says so; electron-builder ships one in resources/. Installed only where this AppArmor accepts it.
profile_src='/opt/${sanitizedProductName}/resources/apparmor-profile'
profile_dst='/etc/apparmor.d/${executable}'
if [ -f "$profile_src" ] && apparmor_status --enabled >/dev/null 2>&1 &&
  apparmor_parser --skip-kernel-load --debug "$profile_src" >/dev/null 2>&1; then
  cp -f "$profile_src" "$profile_dst"
  if ! { [ -x /usr/bin/ischroot ] && /usr/bin/ischroot; }; then
    apparmor_parser --replace --write-cache --skip-read-cache "$profile_dst" || true
  fi
fi

if command -v update-desktop-database >/dev/null 2>&1; then
  update-desktop-database /usr/share/applications || true
fi
exit 0
