#!/bin/sh
# The README's demo, run as a test so that it cannot rot: it must finish,
# and the story's numbers must come out as the story says.
set -eu
sh "$TESTS/demo.sh" demo >demo.out 2>&1 || { tail -30 demo.out; exit 1; }
cd demo
export IVL_LEDGER=ledger
j=$("$IVL" --json budget show 2026-科技创新券)
check() { echo "$j" | grep -q "\"$1\": \"$2\"" || { echo "budget $1 is not $2: $j"; exit 1; }; }
check issued 450000.00
check redeemed 60000.00
check paid 60000.00
check released 390000.00
check available 1940000.00
"$IVL" verify >/dev/null
"$IVL" checkpoint verify attested.note --pub audit.pub >/dev/null
"$IVL" checkpoint verify attested.note --pub ledger/log.pub >/dev/null
grep -q "refused, exit 1" ../demo.out
echo "demo ok"
