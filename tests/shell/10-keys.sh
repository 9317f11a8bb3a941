#!/bin/sh
# Keys as a user meets them: `ivl keygen` files and modes, refusal to
# overwrite, --force, encrypted keys and passphrases, and every way a secret
# key file can be refused (exit 5) when a command loads it.
. "$TESTS/shell/lib.sh"
export IVL_NOW=2026-03-01T09:00:00+08:00

# ---- keygen --unencrypted: files, modes, the verifier key line
assert_exit 0 "$IVL" keygen alice --unencrypted
[ -f alice.key ] && [ -f alice.pub ] || fail "keygen did not write alice.key and alice.pub"
[ "$(file_mode alice.key)" = 600 ] || fail "alice.key mode $(file_mode alice.key), expected 600"
[ "$(file_mode alice.pub)" = 644 ] || fail "alice.pub mode $(file_mode alice.pub), expected 644"
[ "$(wc -l <alice.pub)" -eq 1 ] || fail "alice.pub is not one line"
grep -Eq '^alice\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$' alice.pub || fail "alice.pub: $(cat alice.pub)"
grep -qxF "$(cat alice.pub)" "$OUT" || fail "keygen did not print the verifier key line"
assert_grep 'unencrypted' "$OUT"
# The key id in the line is SHA-256(name || 0x0A || 0x01 || pub)[:4] (checked independently).
$IVLCHECK vkey alice.pub >vk || fail "alice.pub is not a valid signed-note verifier key"
[ "$(cut -d' ' -f1 vk)" = alice ] || fail "key name in alice.pub: $(cat vk)"
# The public key in alice.pub is the one of the seed in the (unencrypted) key file.
"$PY" - alice.key "$(cut -d' ' -f3 vk)" <<'EOF' || fail "alice.pub does not match alice.key"
import sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
b = open(sys.argv[1], "rb").read()
assert b.startswith(b"ivl-secret-key-v1\n") and b[18] == 0, "not a plain ivl key file"
n = b[19]
assert b[20:20 + n] == b"alice"
pk = b[20 + n:52 + n]
seed = b[52 + n:84 + n]
assert len(b) == 84 + n + 32
derived = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
    serialization.Encoding.Raw, serialization.PublicFormat.Raw)
assert derived == pk == bytes.fromhex(sys.argv[2])
EOF

# --json output
assert_exit 0 "$IVL" --json keygen bob --unencrypted
[ "$(jget "$OUT" key)" = bob.key ] && [ "$(jget "$OUT" pub)" = bob.pub ] || fail "keygen --json: $(cat "$OUT")"
[ "$(jget "$OUT" verifier_key)" = "$(cat bob.pub)" ] || fail "keygen --json verifier_key"
[ "$(jget "$OUT" encrypted)" = false ] || fail "keygen --json encrypted"

# A path: the key name is the last component.
mkdir keys
assert_exit 0 "$IVL" keygen keys/carol --unencrypted
[ -f keys/carol.key ] && grep -q '^carol+' keys/carol.pub || fail "keygen keys/carol"
assert_exit 4 "$IVL" keygen no/such/dir/dave --unencrypted

# ---- never overwrites without --force (exit 4, file_exists)
cp alice.key alice.key.orig
cp alice.pub alice.pub.orig
assert_exit 4 "$IVL" keygen alice --unencrypted
assert_grep 'alice.key' "$ERR"
assert_exit 4 "$IVL" --json keygen alice --unencrypted
assert_code file_exists
cmp -s alice.key alice.key.orig && cmp -s alice.pub alice.pub.orig || fail "refused keygen changed the files"
# Either file existing is enough to refuse, and nothing is written.
echo "not mine" >erin.pub
assert_exit 4 "$IVL" keygen erin --unencrypted
[ ! -e erin.key ] || fail "refused keygen wrote erin.key"
[ "$(cat erin.pub)" = "not mine" ] || fail "refused keygen changed erin.pub"
# --force replaces both with a new key.
assert_exit 0 "$IVL" keygen alice --unencrypted --force
cmp -s alice.pub alice.pub.orig && fail "--force did not make a new key"
cmp -s alice.key alice.key.orig && fail "--force did not replace alice.key"
[ "$(file_mode alice.key)" = 600 ] || fail "alice.key after --force: mode $(file_mode alice.key)"
$IVLCHECK vkey alice.pub >/dev/null || fail "alice.pub after --force"

# ---- bad names and usage (exit 2)
assert_exit 2 "$IVL" keygen
assert_exit 2 "$IVL" keygen 'a b' --unencrypted
assert_exit 2 "$IVL" keygen 'a+b' --unencrypted
assert_exit 2 "$IVL" keygen one two --unencrypted
assert_exit 2 "$IVL" keygen frank --unencrypted --bogus
assert_exit 2 "$IVL" keygen frank --unencrypted=yes
[ ! -e frank.key ] || fail "a refused keygen wrote frank.key"

# ---- encrypted keys
assert_exit 0 env IVL_PASSPHRASE='correct horse' "$IVL" keygen enc
assert_grep 'encrypted' "$OUT"
[ "$(file_mode enc.key)" = 600 ] || fail "enc.key mode"
"$PY" -c 'import sys; b=open("enc.key","rb").read(); sys.exit(0 if b[18]==1 else 1)' ||
    fail "enc.key is not an encrypted (kind 1) key file"
# An empty passphrase is refused (use --unencrypted instead).
assert_exit 2 env IVL_PASSPHRASE= "$IVL" keygen empty
[ ! -e empty.key ] || fail "keygen with an empty passphrase wrote empty.key"
# No terminal and no passphrase in the environment: exit 5, nothing written.
assert_exit 5 setsid -w "$IVL" --json keygen notty </dev/null
assert_code no_passphrase
[ ! -e notty.key ] && [ ! -e notty.pub ] || fail "keygen without a passphrase wrote files"

# Loading: `init` is the first command that reads a key. A refused key must
# leave no ledger behind.
INIT="init --origin test.example/ivl --uscc $U_AUTH --name Bureau"
assert_exit 0 env IVL_PASSPHRASE='correct horse' "$IVL" --json -L L1 $INIT --key enc.key
assert_exit 5 env IVL_PASSPHRASE='wrong horse' "$IVL" --json -L L2 $INIT --key enc.key
assert_code wrong_passphrase
[ ! -e L2/data.mdb ] || fail "init with a wrong passphrase created a ledger"
echo 'correct horse' >pass.txt
# A passphrase file others can read is refused like a secret key file.
chmod 644 pass.txt
assert_exit 5 env "IVL_PASSPHRASE_FILE=$(pwd)/pass.txt" "$IVL" --json -L L9 $INIT --key enc.key
assert_code unsafe_key_file
[ ! -e L9/data.mdb ] || fail "init with an unsafe passphrase file created a ledger"
chmod 600 pass.txt
assert_exit 0 env "IVL_PASSPHRASE_FILE=$(pwd)/pass.txt" "$IVL" --json -L L3 $INIT --key enc.key
echo 'wrong' >wrong.txt
chmod 600 wrong.txt
assert_exit 5 env "IVL_PASSPHRASE_FILE=$(pwd)/wrong.txt" "$IVL" --json -L L4 $INIT --key enc.key
assert_code wrong_passphrase
# IVL_PASSPHRASE_FILE comes first.
assert_exit 0 env "IVL_PASSPHRASE_FILE=$(pwd)/pass.txt" IVL_PASSPHRASE=wrong "$IVL" --json -L L5 $INIT --key enc.key
assert_exit 5 setsid -w "$IVL" --json -L L6 init --origin test.example/ivl --key enc.key \
    --uscc "$U_AUTH" --name Bureau </dev/null
assert_code no_passphrase
[ ! -e L6/data.mdb ] || fail "init without a passphrase created a ledger"
# A missing passphrase file is a key error too.
assert_exit 5 env "IVL_PASSPHRASE_FILE=$(pwd)/nonexistent" "$IVL" --json -L L7 $INIT --key enc.key
# An unencrypted key ignores the passphrase variables.
assert_exit 0 env IVL_PASSPHRASE=whatever "$IVL" --json -L L8 $INIT --key bob.key

# ---- unsafe, damaged and missing key files (exit 5)
cp bob.key mode.key
chmod 644 mode.key
assert_exit 5 "$IVL" --json -L M1 $INIT --key mode.key
assert_code unsafe_key_file
chmod 640 mode.key
assert_exit 5 "$IVL" --json -L M2 $INIT --key mode.key
chmod 604 mode.key
assert_exit 5 "$IVL" --json -L M3 $INIT --key mode.key
chmod 600 mode.key
assert_exit 0 "$IVL" --json -L M4 $INIT --key mode.key

ln -s bob.key link.key
assert_exit 5 "$IVL" --json -L M5 $INIT --key link.key
assert_code unsafe_key_file

size=$(wc -c <bob.key)
head -c $((size - 1)) bob.key >trunc.key
head -c 10 bob.key >trunc10.key
: >emptyfile.key
cat bob.key >long.key
printf 'x' >>long.key
cp bob.pub pubaskey.key
"$PY" - bob.key flip.key <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[60] ^= 0x01
open(sys.argv[2], "wb").write(b)
EOF
"$PY" - enc.key encflip.key <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[-40] ^= 0x80  # inside the encrypted seed: the checksum now fails
open(sys.argv[2], "wb").write(b)
EOF
for k in trunc trunc10 emptyfile long pubaskey flip encflip; do
    chmod 600 $k.key
    assert_exit 5 env IVL_PASSPHRASE='correct horse' "$IVL" --json -L "B-$k" $INIT --key $k.key
    assert_code bad_key_file
    [ ! -e "B-$k/data.mdb" ] || fail "init with $k.key created a ledger"
done
assert_exit 5 "$IVL" --json -L M6 $INIT --key nonexistent.key
assert_code unreadable_key
mkdir dir.key
assert_exit 5 "$IVL" --json -L M7 $INIT --key dir.key

# The same key errors on an appending command against an existing ledger.
make_ledger L
before=$(ledger_state L)
assert_exit 5 "$IVL" --json -L L party add --role sme --uscc "$(uscc_of 91140521MA0000009)" \
    --name X --pub alice.pub --key mode.key.nope
chmod 644 mode.key
assert_exit 5 "$IVL" -L L party add --role sme --uscc "$(uscc_of 91140521MA0000009)" --name X \
    --pub alice.pub --key mode.key
assert_exit 5 "$IVL" -L L party add --role sme --uscc "$(uscc_of 91140521MA0000009)" --name X \
    --pub alice.pub --key trunc.key
# A key that is not the authority's: key_not_valid (5).
assert_exit 5 "$IVL" --json -L L party add --role sme --uscc "$(uscc_of 91140521MA0000009)" \
    --name X --pub alice.pub --key sme.key
assert_code key_not_valid
# A well-formed key of no registered party.
assert_exit 5 "$IVL" -L L party add --role sme --uscc "$(uscc_of 91140521MA0000009)" --name X \
    --pub alice.pub --key alice.key
assert_unchanged L "$before"

# ---- known bug: an empty NAME is accepted and writes ".key"/".pub" with key
# name "." (basename("") is "."); it must be a usage error.
assert_exit 2 "$IVL" keygen '' --unencrypted
[ ! -e .key ] || fail "keygen '' wrote .key"
echo "10-keys: ok"
