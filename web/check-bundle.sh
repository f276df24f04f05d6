#!/usr/bin/env bash
# check-bundle.sh rebuilds the web app from web/src with the versions pinned
# in web/package-lock.json and fails if the result differs from the committed
# web/dist. Needs Node and npm (and the npm registry, for `npm ci`).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null; then
	echo "check-bundle: npm not found; cannot verify web/dist" >&2
	exit 1
fi
npm ci --no-audit --no-fund --loglevel=error >/dev/null
npm run --silent build
if ! git diff --exit-code --stat -- dist; then
	echo "check-bundle: web/dist does not match web/src; run 'npm run build' in web/ and commit dist/" >&2
	exit 1
fi
untracked=$(git ls-files --others --exclude-standard -- dist)
if [ -n "$untracked" ]; then
	echo "check-bundle: untracked files in web/dist: $untracked" >&2
	exit 1
fi
echo "check-bundle: web/dist matches its sources"
