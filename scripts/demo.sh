#!/usr/bin/env bash
# demo.sh: the demonstration workflow on the embedded database (README "make demo").
# Each step is a real fmtbank command; the users are the demo users of "fmtbank init --demo".
set -euo pipefail
BUILD=${1:-build}
export PATH="$(cd "$BUILD" && pwd):$PATH"
step() { printf '\n== %s\n' "$*"; }

step "create (first time) and start the embedded database, apply the schema, load demo data"
fmtbank init --demo
fmtbank status

step "people and roles"
fmtbank user list

step "the donor registry (pseudonymous codes)"
fmtbank --user alice donor list

step "audit trail integrity"
fmtbank --user audrey audit verify

step "the audit trail as an xlsx report (reports/audit.report)"
fmtbank --user audrey report audit -o "$(cd "$BUILD" && pwd)/demo-audit.xlsx"
echo "audit report: $(cd "$BUILD" && pwd)/demo-audit.xlsx"

printf '\nEmbedded database: %s\n' "$(fmtbank db url)"
