#!/usr/bin/env bash
# t0015-anchors: the audit chain anchored outside the database. Keys, signed anchors appended to
# a log and dropped into an outbox, and "audit verify --anchors" catching what plain verify
# cannot: a superuser's rewrite with the keyless hash chain recomputed, tail truncation up to an
# anchored row, and a forged anchor line.
. "$(dirname "$0")/lib.sh"
setup_db

K="$TMP/anchor"
mkdir -m 700 "$K" "$K/outbox"
key="$K/anchor.key"
pub="$K/anchor.pub"
log="$K/anchors.log"

# ---------------------------------------------------------------- keys
expect 2 "keygen needs --public" fmtbank audit keygen --private "$key"
expect 0 "keygen" fmtbank audit keygen --private "$key" --public "$pub"
assert_eq "$(stat -c %a "$key")" "600" "private key mode 0600"
assert_contains "$(head -1 "$key")" "BEGIN PRIVATE KEY" "private key in PEM"
assert_contains "$(head -1 "$pub")" "BEGIN PUBLIC KEY" "public key in PEM"
before=$(sha256sum <"$key")
expect 5 "keygen refuses to overwrite" fmtbank audit keygen --private "$key" --public "$K/other.pub"
assert_contains "$ERR" "already exists" "says why"
assert_eq "$(sha256sum <"$key")" "$before" "the existing private key is unchanged"
assert_eq "$(ls "$K" | grep -c other)" "0" "no half pair created"

# ---------------------------------------------------------------- anchors
fmtbank --user alice donor add D-0200 --birth-year 1980 --sex F >/dev/null
target=$(sql "select id from fmtbank.audit_log where tbl = 'donor' and key = 'D-0200'")
expect 0 "anchor" fmtbank --user audrey audit anchor --key "$key" --log "$log" --outbox "$K/outbox"
head1=$(sql "select max(id) from fmtbank.audit_log")
assert_eq "$(wc -l <"$log")" "1" "one line appended to the anchor log"
line1=$(head -1 "$log")
assert_eq "$OUT" "$line1" "the anchor is printed too"
hash1=$(sql "select encode(hash, 'hex') from fmtbank.audit_log where id = $head1")
assert_contains "$line1" "fmtbank-anchor v1 $head1 $hash1 " "signs the chain head (last row, its hash)"
assert_eq "$(ls "$K/outbox" | grep -c '^anchor-.*\.txt$')" "1" "a copy in the outbox"
assert_eq "$(cat "$K"/outbox/anchor-*.txt)" "$line1" "the outbox copy is the same line"

for i in 1 2 3; do fmtbank --user alice donor add "D-021$i" >/dev/null; done
expect 0 "second anchor after more writes" fmtbank --user audrey audit anchor --key "$key" --log "$log" --outbox "$K/outbox"
head2=$(sql "select max(id) from fmtbank.audit_log")
assert_eq "$(wc -l <"$log")" "2" "appended, not replaced"
assert_contains "$(tail -1 "$log")" "fmtbank-anchor v1 $head2 " "anchors the new head"
assert_eq "$(ls "$K/outbox" | grep -c '^anchor-.*\.txt$')" "2" "two copies in the outbox"
fmtbank --user alice donor add D-0220 >/dev/null

expect 0 "verify with anchors" fmtbank --user audrey audit verify --anchors "$log" --pub "$pub"
assert_contains "$OUT" "2 anchors verified, the last at row $head2" "reports the anchors"
assert_contains "$OUT" "not yet anchored" "and the rows after the last one"
# Signers at once (the timer and a run by hand) while people write: each anchor extends the one
# before it in the log (the log is locked from reading its last line to appending).
conc="$K/concurrent.log"
cp "$log" "$conc"
for w in 1 2 3 4; do
    ( fmtbank --user alice donor add "D-03$w$w" >/dev/null 2>&1
      fmtbank --user audrey audit anchor --key "$key" --log "$conc" >/dev/null 2>"$TMP/conc$w.err"
      echo $? >"$TMP/conc$w.rc" ) &
done
wait
assert_eq "$(cat "$TMP"/conc[1-4].rc | sort -u)" "0" "four concurrent anchors succeed"
assert_eq "$(wc -l <"$conc")" "6" "four lines appended"
assert_eq "$(awk '{print $3}' "$conc" | sort -n -c && echo sorted)" "sorted" "rows anchored in log order"
expect 0 "concurrent anchors verify" fmtbank --user audrey audit verify --anchors "$conc" --pub "$pub"
assert_contains "$OUT" "6 anchors verified" "all six"

expect 2 "--anchors needs --pub" fmtbank --user audrey audit verify --anchors "$log"
expect 4 "a missing anchor log" fmtbank --user audrey audit verify --anchors "$K/none.log" --pub "$pub"

# Refusals: the technician cannot read the chain head; a private key others can read is refused.
n=$(wc -l <"$log")
expect 6 "technician cannot anchor" fmtbank --user alice audit anchor --key "$key" --log "$log"
chmod 640 "$key"
expect 5 "a group-readable private key is refused" fmtbank --user audrey audit anchor --key "$key" --log "$log"
assert_contains "$ERR" "readable by others" "says why"
chmod 600 "$key"
cp "$pub" "$K/pubcopy" && chmod 600 "$K/pubcopy"
expect 3 "a public key is not a signing key" fmtbank --user audrey audit anchor --key "$K/pubcopy" --log "$log"
assert_contains "$ERR" "is not an Ed25519 private key" "says why"
assert_eq "$(wc -l <"$log")" "$n" "no anchor appended by a refused run"

expect 3 "an outbox that is not a directory" fmtbank --user audrey audit anchor --key "$key" --log "$log" --outbox "$pub"
assert_contains "$ERR" "is not a directory" "says why"
expect 3 "keygen into a missing directory" fmtbank audit keygen --private "$K/no/a.key" --public "$K/no/a.pub"
assert_eq "$(wc -l <"$log")" "$n" "still no anchor appended"

# Another key pair's public key refuses every anchor.
fmtbank audit keygen --private "$K/b.key" --public "$K/b.pub" >/dev/null
expect 5 "anchors checked with the wrong public key" fmtbank --user audrey audit verify --anchors "$log" --pub "$K/b.pub"
assert_contains "$ERR" "anchor signature invalid: $log line 1" "names the first line"

# ---------------------------------------------------------------- forged anchors
# A line whose hash was changed (here: to the current head's, re-dated) no longer verifies.
forged="$K/forged.log"
cp "$log" "$forged"
hashnow=$(sql "select encode(hash, 'hex') from fmtbank.audit_log order by id desc limit 1")
idnow=$(sql "select max(id) from fmtbank.audit_log")
sig=$(tail -1 "$log" | awk '{print $6}')
echo "fmtbank-anchor v1 $idnow $hashnow $(date -u +%Y-%m-%dT%H:%M:%SZ) $sig" >>"$forged"
expect 5 "a forged anchor line" fmtbank --user audrey audit verify --anchors "$forged" --pub "$pub"
assert_contains "$ERR" "anchor signature invalid: $forged line 3 (row $idnow" "names the forged line"
printf 'fmtbank-anchor v1 1 xyz\n' >"$K/bad.log"
expect 3 "a malformed anchor line" fmtbank --user audrey audit verify --anchors "$K/bad.log" --pub "$pub"
assert_contains "$ERR" "line 1 is not an anchor: the chain hash is not 64 lower-case hex digits" "says what is wrong"

# ---------------------------------------------------------------- a superuser's rewrite
# Edit an old audit row and recompute the whole keyless hash chain: plain verify says intact.
recompute="update fmtbank.audit_log a set hash = c.h
    from (select id, fmtbank.hash_chain('\\x'::bytea, fmtbank.audit_content(id, at, who, tbl, op, key,
                                                      old_row, new_row, reason)) over (order by id) as h
          from fmtbank.audit_log) c
    where a.id = c.id and a.hash <> c.h"
rewrite() { # SQL: runs it and the chain recomputation as the superuser, append-only trigger off
    sql "alter table fmtbank.audit_log disable trigger append_only; $1; $recompute;
         alter table fmtbank.audit_log enable trigger append_only" >/dev/null
}
rewrite "update fmtbank.audit_log set reason = 'forged' where id = $target"
assert_eq "$(sql "select reason from fmtbank.audit_log where id = $target")" "forged" "the row was rewritten"
expect 0 "plain verify is fooled by the recomputed chain" fmtbank --user audrey audit verify
assert_contains "$OUT" "audit trail intact" "plain verify says intact"
expect 5 "verify --anchors detects the rewrite" fmtbank --user audrey audit verify --anchors "$log" --pub "$pub"
assert_contains "$ERR" "audit trail rewritten: the chain at row $head1 does not match its anchor" "names the first anchor broken"
assert_contains "$ERR" "rows 1 to $head1" "bounds where the change is"
n=$(wc -l <"$log")
expect 5 "the signer refuses to anchor a rewritten trail" fmtbank --user audrey audit anchor --key "$key" --log "$log" --outbox "$K/outbox"
assert_contains "$ERR" "not signing: the audit trail no longer extends the last anchor (row $head2" "says why"
assert_eq "$(wc -l <"$log"):$(ls "$K/outbox" | wc -l)" "$n:2" "nothing signed, nothing shipped"

# Put it back: the anchors match again.
rewrite "update fmtbank.audit_log set reason = NULL where id = $target"
expect 0 "restored trail verifies against the anchors" fmtbank --user audrey audit verify --anchors "$log" --pub "$pub"

# audit_chain_at is the chain recomputed from content, not the stored hash: after an edit that
# left the stored hashes alone it returns what the recomputation gives.
recomputed_at() {
    sql "select encode(h, 'hex') from (select id, fmtbank.hash_chain('\\x'::bytea,
             fmtbank.audit_content(id, at, who, tbl, op, key, old_row, new_row, reason))
             over (order by id) as h from fmtbank.audit_log) c where id = $1"
}
sql_as audrey "select fmtbank.audit_chain_at($head1) = '$hash1'"
assert_eq "$RC:$OUT" "0:t" "the auditor reads the chain at an anchored row"
sql_as alice "select fmtbank.audit_chain_at($head1)"
assert_contains "$ERR" "permission denied" "the technician cannot"
sql "alter table fmtbank.audit_log disable trigger append_only;
     update fmtbank.audit_log set reason = 'edited' where id = $target;
     alter table fmtbank.audit_log enable trigger append_only" >/dev/null
assert_eq "$(sql "select fmtbank.audit_chain_at($head1)")" "$(recomputed_at "$head1")" "chain at a row after an edit: recomputed"
assert_eq "$(sql "select fmtbank.audit_chain_at($head1) <> '$hash1'")" "t" "and no longer the anchored hash"
assert_eq "$(sql "select count(*) from fmtbank.audit_chain_at(array[$target - 1, $head1, 999999]) where hash is null")" "1" "a row that does not exist has no hash"
expect 5 "verify --anchors on a broken chain" fmtbank --user audrey audit verify --anchors "$log" --pub "$pub"
assert_contains "$ERR" "audit trail broken at row $target" "names the broken row as plain verify does"
sql "alter table fmtbank.audit_log disable trigger append_only;
     update fmtbank.audit_log set reason = NULL where id = $target;
     alter table fmtbank.audit_log enable trigger append_only" >/dev/null
expect 0 "restored again" fmtbank --user audrey audit verify --anchors "$log" --pub "$pub"

# A rewrite between the two anchors is bounded by them.
mid=$(sql "select id from fmtbank.audit_log where tbl = 'donor' and key = 'D-0212'")
rewrite "update fmtbank.audit_log set who = 'quinn' where id = $mid"
expect 5 "a rewrite after the first anchor" fmtbank --user audrey audit verify --anchors "$log" --pub "$pub"
assert_contains "$ERR" "the chain at row $head2 does not match" "caught by the second anchor"
assert_contains "$ERR" "rows $((head1 + 1)) to $head2" "the first anchor still matches"
rewrite "update fmtbank.audit_log set who = 'alice' where id = $mid"

# The limit (README threat model): a rewrite after the last anchor is not detectable yet.
last=$(sql "select max(id) from fmtbank.audit_log")
rewrite "update fmtbank.audit_log set reason = 'after the last anchor' where id = $last"
expect 0 "a rewrite after the last anchor is not caught (documented limit)" fmtbank --user audrey audit verify --anchors "$log" --pub "$pub"

# ---------------------------------------------------------------- tail truncation
keep=$(sql "select min(id) from fmtbank.audit_log where id > $head1")
rewrite "delete from fmtbank.audit_log where id > $keep"
assert_eq "$(sql "select max(id) from fmtbank.audit_log")" "$keep" "tail rows removed by the superuser"
expect 0 "plain verify does not see a cut tail" fmtbank --user audrey audit verify
expect 5 "verify --anchors detects the truncation" fmtbank --user audrey audit verify --anchors "$log" --pub "$pub"
assert_contains "$ERR" "audit trail truncated: row $head2, anchored at" "names the missing anchored row"
assert_contains "$ERR" "ends at row $keep" "says where the trail now ends"
expect 5 "the signer refuses to anchor a cut trail" fmtbank --user audrey audit anchor --key "$key" --log "$log"
assert_contains "$ERR" "no longer extends the last anchor (row $head2" "says why"

# An anchored row removed from the middle, the chain recomputed over the rest.
rewrite "delete from fmtbank.audit_log where id = $head1"
expect 0 "plain verify is fooled again" fmtbank --user audrey audit verify
expect 5 "verify --anchors detects the removed anchored row" fmtbank --user audrey audit verify --anchors "$log" --pub "$pub"
assert_contains "$ERR" "row $head1, anchored at" "names it"
assert_contains "$ERR" "The anchored row was removed outside fmtbank and the hash chain recomputed" "not called a cut tail"

# The signer checks the log's last line with its key: another key's anchor log is refused, a
# new (empty) log is started.
cp "$log" "$K/other.log"
expect 5 "another key's anchor log" fmtbank --user audrey audit anchor --key "$K/b.key" --log "$K/other.log"
assert_contains "$ERR" "is not an anchor signed with this key" "says why"
: >"$K/new.log"
expect 0 "an empty log is a new log" fmtbank --user audrey audit anchor --key "$K/b.key" --log "$K/new.log"
expect 0 "the next anchor extends it" fmtbank --user audrey audit anchor --key "$K/b.key" --log "$K/new.log"
expect 0 "and verifies" fmtbank --user audrey audit verify --anchors "$K/new.log" --pub "$K/b.pub"
assert_contains "$OUT" "2 anchors verified" "both anchors"

# ---------------------------------------------------------------- the systemd example
if command -v systemd-analyze >/dev/null; then
    sed "s#/usr/local/bin/fmtbank #$FMTBANK_BIN/fmtbank #" "$FMTBANK_SRC/dist/fmtbank-anchor.service" \
        >"$TMP/fmtbank-anchor.service"
    cp "$FMTBANK_SRC/dist/fmtbank-anchor.timer" "$TMP/"
    run systemd-analyze verify "$TMP/fmtbank-anchor.service" "$TMP/fmtbank-anchor.timer"
    assert_eq "$RC:$ERR$OUT" "0:" "systemd-analyze verify accepts the anchor service and timer"
fi
unit=$(cat "$FMTBANK_SRC/dist/fmtbank-anchor.service")
for line in "User=fmtbank-anchor" "Type=oneshot" "StateDirectoryMode=0700" "UMask=0077" \
    "audit anchor --key /var/lib/fmtbank-anchor/anchor.key"; do
    assert_contains "$unit" "$line" "anchor unit has $line"
done
assert_not_contains "$unit" "User=fmtbank
" "not the database's OS user"

done_testing
