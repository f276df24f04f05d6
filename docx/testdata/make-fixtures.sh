#!/usr/bin/env bash
# Makes the import fixtures that docx/fixtures_test.go reads, each from
# another writer than ours, all from the same text:
#   original: "Article 1\n1. The Parties shall cooperate in good faith.\n2. Each Party may report."
#   accepted: "Article 1\n1. The Parties should cooperate.\n2. Each Party may report annually."
#
# libreoffice-tracked.docx: LibreOffice imports the text, turns change
#   recording on as "Jean Dupont", makes the three edits and saves as Word
#   2007-365 (macro Edit of internal/office/Module1.xba).
# npm-tracked.docx: the docx npm package writes the same edits as
#   w:ins/w:del (npm/make.mjs).
#
# Needs soffice and node/npm. Run from anywhere: docx/testdata/make-fixtures.sh
set -euo pipefail
cd "$(dirname "$0")"
here="$PWD"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

profile="-env:UserInstallation=file://$work/profile"
soffice "$profile" --headless --norestore --terminate_after_init >/dev/null 2>&1 || true
mkdir -p "$work/profile/user/basic/Standard"
cp ../../internal/office/Module1.xba "$work/profile/user/basic/Standard/"

printf 'Article 1\n1. The Parties shall cooperate in good faith.\n2. Each Party may report.' >"$work/base.txt"
soffice "$profile" --headless --norestore --infilter="Text (encoded):UTF8,LF" --convert-to "docx:MS Word 2007 XML" --outdir "$work" "$work/base.txt" >/dev/null
soffice "$profile" --headless --norestore \
	"macro:///Standard.Module1.Edit(\"file://$work/base.docx\",\"file://$here/libreoffice-tracked.docx\",\"Jean Dupont\",\"shall| in good faith|^may report\",\"should|| annually\")"
test -s "$here/libreoffice-tracked.docx"

(cd npm && npm ci --no-audit --no-fund >/dev/null && npm run --silent make)
test -s "$here/npm-tracked.docx"
echo "wrote libreoffice-tracked.docx npm-tracked.docx"
