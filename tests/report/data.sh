#!/bin/sh
# data.sh DIR - continues the demo ledger in DIR (made by tests/demo.sh) with
# a second year, so that a report has something in every column: a 2027
# budget, two more providers (one with HTML and quote characters in its
# name, one whose name a spreadsheet would take for a formula), redemptions
# that end unclaimed, cancelled, claimed and pending, approved awaiting
# payment, rejected, paid, and paid then clawed back.
# Needs IVL (the binary). Prints nothing unless a step fails.
set -eu
: "${IVL:?set IVL to the ivl binary}"
cd "$1"
export IVL_LEDGER=ledger IVL_PASSPHRASE="demo passphrase, use a real one"
at() { export IVL_NOW="$1"; }
q() { "$IVL" "$@" >/dev/null; }
id() { # the last line a command prints (an id); fails when the command fails
    _o=$("$IVL" "$@") || exit 1
    printf '%s\n' "$_o" | tail -n 1
}

P2=12140521MB00001015
P3=52140521MJ00002028
B=2027-科技创新券
"$IVL" keygen prov2 --unencrypted >/dev/null
"$IVL" keygen prov3 --unencrypted >/dev/null

at 2027-01-10T09:00:00+08:00
q party add --role provider --uscc $P2 --name '晋城市"精诚"检测 & 咨询 <有限公司>' --pub prov2.pub \
    --categories testing,consulting,rd --key bureau.key
q party add --role provider --uscc $P3 --name '=1+1 技术转移服务中心' --pub prov3.pub --key bureau.key
q budget open $B --total 3000000 --cap 500000 --ratio 50 --until 2027-12-31 --key bureau.key

at 2027-02-15T10:00:00+08:00
VH=$(id issue --budget $B --to 91140521MA00000018 --amount 300000 --key bureau.key)
VJ=$(id issue --budget $B --to 91140521MA0000002B --amount 250000 --key bureau.key)
VT=$(id issue --budget $B --to 91140521MA0000003E --amount 150000 --key bureau.key)

redeem() { # N VOUCHER SMEKEY PROVUSCC PROVKEY CONTRACT_AMOUNT AMOUNT CATEGORY
    printf 'contract %s with %s\n' "$1" "$4" >"contract-2027-$1.txt"
    id redeem --voucher "$2" --provider "$4" --contract "contract-2027-$1.txt" \
        --contract-amount "$6" --amount "$7" --category "$8" --key "$3.key" --cosign "$5.key"
}
claim() { # REDEMPTION PROVKEY
    printf 'invoice for %s\n' "$1" >"invoice-$1.txt"
    id claim --redemption "$1" --invoice "invoice-$1.txt" --key "$2.key"
}

at 2027-03-08T11:00:00+08:00
R1=$(redeem 1 "$VH" sme-hengda $P2 prov2 160000 80000 testing)
R2=$(redeem 2 "$VJ" sme-jinxin $P2 prov2 90000 45000 consulting)
at 2027-03-20T15:00:00+08:00
R3=$(redeem 3 "$VT" sme-taihang 12140000405000001F uni-testing 100000 50000 rd)
R4=$(redeem 4 "$VH" sme-hengda $P3 prov3 40000 20000 transfer)
at 2027-04-02T09:30:00+08:00
R5=$(redeem 5 "$VJ" sme-jinxin $P3 prov3 70000 35000 transfer)
R6=$(redeem 6 "$VH" sme-hengda 12140000405000001F uni-testing 60000 30000 testing)
at 2027-04-10T09:00:00+08:00
q cancel "$R6" --reason "合同解除" --key bureau.key

at 2027-04-15T10:00:00+08:00
C1=$(claim "$R1" prov2)
C2=$(claim "$R2" prov2)
C3=$(claim "$R3" uni-testing)
at 2027-04-28T10:00:00+08:00
q approve "$C1" --key bureau.key
q approve "$C2" --key bureau.key
q reject "$C3" --reason "发票与合同不符" --key bureau.key
at 2027-05-18T14:00:00+08:00
q pay "$C1" --ref ICBC-20270518-0007 --key finance.key
q pay "$C2" --ref ICBC-20270518-0008 --key finance.key
at 2027-06-03T09:00:00+08:00
q clawback "$C2" --reason "服务未实际提供" --key bureau.key
C4=$(claim "$R4" prov3)
at 2027-06-20T09:00:00+08:00
q approve "$C4" --key bureau.key
C5=$(claim "$R5" prov3)
echo "$C4 $C5" >open-claims.txt
