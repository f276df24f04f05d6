#!/usr/bin/env bash
# profile.sh DIR: makes DIR a LibreOffice user profile holding the macros of
# Module1.xba (library Standard), for soffice -env:UserInstallation=file://DIR.
# LibreOffice writes its default Standard library into a new profile on its
# first start, so the profile is created first and the macros copied after.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="$1"
if [ ! -d "$dir/user/basic/Standard" ]; then
	soffice -env:UserInstallation="file://$dir" --headless --norestore --terminate_after_init >/dev/null 2>&1 || true
fi
mkdir -p "$dir/user/basic/Standard"
cp "$here/Module1.xba" "$dir/user/basic/Standard/"
