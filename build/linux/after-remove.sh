#!/bin/bash
# Run by dpkg after removing the Moat .deb: undoes build/linux/after-install.sh. The data
# directory (~/.local/share/moat, or MOAT_DATA_DIR) is the user's and stays.

rm -f '/usr/bin/${executable}'
if [ "$(readlink /usr/bin/moat 2>/dev/null)" = '/opt/${sanitizedProductName}/resources/cli/moat.sh' ]; then
  rm -f /usr/bin/moat
fi

profile='/etc/apparmor.d/${executable}'
if [ -f "$profile" ]; then
  if apparmor_status --enabled >/dev/null 2>&1 && ! { [ -x /usr/bin/ischroot ] && /usr/bin/ischroot; }; then
    apparmor_parser --remove "$profile" >/dev/null 2>&1 || true
  fi
  rm -f "$profile"
fi
exit 0
