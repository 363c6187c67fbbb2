#!/usr/bin/env bash
# t0707-daemon-systemd: dist/fmtbankd.service passes "systemd-analyze verify" without a warning
# (its ExecStart pointed at the built binary) and keeps its service contract and hardening.
. "$(dirname "$0")/lib.sh"

unit="$FMTBANK_SRC/dist/fmtbankd.service"
sed "s#/usr/local/bin/fmtbankd#$FMTBANK_BIN/fmtbankd#" "$unit" >"$TMP/fmtbankd.service"
run systemd-analyze verify "$TMP/fmtbankd.service"
assert_eq "$RC" "0" "systemd-analyze verify accepts the unit"
assert_eq "$ERR$OUT" "" "without a warning"

# verify does catch mistakes (so the check above means something).
sed 's/^Type=simple/Type=simple\nRestartt=always/' "$TMP/fmtbankd.service" >"$TMP/bad.service"
run systemd-analyze verify "$TMP/bad.service"
assert_contains "$ERR" "Unknown key 'Restartt'" "a misspelt key is reported"

text=$(cat "$unit")
for line in "Type=simple" "Restart=on-failure" "RestartPreventExitStatus=2" "User=fmtbank" \
    "ExecReload=/bin/kill -HUP \$MAINPID" "KillSignal=SIGTERM" "NoNewPrivileges=yes" \
    "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" "PrivateDevices=yes" \
    "ReadWritePaths=/var/lib/fmtbank /srv/fmtbank/inbox /srv/fmtbank/outbox" \
    "CapabilityBoundingSet=" "SystemCallFilter=@system-service" "RestrictAddressFamilies=AF_UNIX"; do
    assert_contains "$text" "$line" "unit has $line"
done

# The example configuration is valid as shipped (its directories aside).
sed -e "s#/srv/fmtbank/inbox#$TMP#" -e "s#/srv/fmtbank/outbox#$TMP#" \
    "$FMTBANK_SRC/dist/fmtbankd.conf" >"$TMP/fmtbankd.conf"
run fmtbankd --once --config "$TMP/fmtbankd.conf" --db "host=$TMP/no-server"
assert_eq "$RC" "7" "the example configuration parses (then no database: 7)"
assert_not_contains "$ERR" "fmtbankd.conf:" "no line of it is refused"

done_testing
