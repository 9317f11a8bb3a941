#!/bin/sh
# A county's voucher year on ivl, start to finish (run by `make demo`).
#
# The S&T bureau opens the 2026 budget, registers enterprises and a
# university test centre from the approved list, issues vouchers; an
# enterprise spends part of one at the test centre (signed on two machines),
# the centre claims payment, the bureau approves, the finance bureau pays;
# one voucher is revoked; the year ends and unspent money returns to the
# budget; the audit bureau verifies and attests. Dates are set with IVL_NOW.
set -eu
IVL=${IVL:-$(pwd)/ivl}
OUT=${1:-demo-out}
rm -rf "$OUT" && mkdir -p "$OUT" && cd "$OUT"
# The auditor's verified state (ivl verify keeps it) stays with the demo.
export XDG_CACHE_HOME="$PWD/cache"
# Step headings follow the language of the messages (LANG=zh_CN.UTF-8: Chinese).
step() {
    case "${LC_ALL:-${LC_MESSAGES:-${LANG:-}}}" in
    zh_CN* | zh_SG*) printf '\n\033[1m== %s\033[0m\n' "$2" ;;
    *) printf '\n\033[1m== %s\033[0m\n' "$1" ;;
    esac
}
refused() {
    case "${LC_ALL:-${LC_MESSAGES:-${LANG:-}}}" in
    zh_CN* | zh_SG*) echo "（已拒绝，退出码 $1）" ;;
    *) echo "(refused, exit $1)" ;;
    esac
}
run() { printf '$ ivl %s\n' "$*" >&2; "$IVL" "$@"; }
at() { export IVL_NOW="$1"; }
export IVL_LEDGER=ledger

step "Keys: the bureau's is encrypted with a passphrase; service keys are not" "密钥：科技局的私钥用口令加密，服务用的密钥不加密"
export IVL_PASSPHRASE="demo passphrase, use a real one"
run keygen bureau
for k in sme-hengda sme-jinxin sme-taihang uni-testing finance audit; do
    "$IVL" keygen "$k" --unencrypted >/dev/null
done
ls *.key *.pub

step "The bureau creates the ledger (沁水县科技创新券登记簿)" "科技局创建账本（沁水县科技创新券登记簿）"
at 2026-01-05T09:00:00+08:00
run init --origin qinshui.gov.cn/ivl --key bureau.key --uscc 11140521MB12345677 --name 沁水县教育局（科技局）

step "Registering the approved enterprises and providers from the spreadsheet" "从审定名单（表格）登记企业和服务机构"
pub() { cat "$1.pub"; }
cat > parties.csv <<CSV
role,uscc,name,pub,related,group,categories
sme,91140521MA00000018,沁水恒达新材料有限公司,$(pub sme-hengda),,晋城恒达集团,
sme,91140521MA0000002B,"沁水县金鑫煤层气技术有限公司",$(pub sme-jinxin),"12140000405000001F",,
sme,91140521MA0000003E,太行智能装备（沁水）有限公司,$(pub sme-taihang),,晋城恒达集团,
provider,12140000405000001F,太原理工大学分析测试中心,$(pub uni-testing),,,"testing,rd"
finance,11140521MB76543214,沁水县财政局,$(pub finance),,,
auditor,11140521MB11111111,沁水县审计局,$(pub audit),,,
CSV
run party add --batch parties.csv --key bureau.key
run party list

step "The 2026 budget: 2,000,000 yuan, at most 300,000 per enterprise group, 50% of each contract" "2026 年预算：200 万元，每个企业集团最多 30 万元，每份合同最多兑付 50%"
run budget open 2026-科技创新券 --total 2000000 --cap 300000 --ratio 50 --until 2026-12-31 --key bureau.key

step "Issuing vouchers from the approved list" "按审定名单发放创新券"
at 2026-02-10T10:00:00+08:00
cat > vouchers.csv <<CSV
uscc,amount,until
91140521MA00000018,200000,
91140521MA0000002B,150000,
91140521MA0000003E,100000,2026-09-30
CSV
run issue --budget 2026-科技创新券 --batch vouchers.csv --key bureau.key >issued.txt
cat issued.txt
V1=$(sed -n 1p issued.txt); V2=$(sed -n 2p issued.txt); V3=$(sed -n 3p issued.txt)

step "The group cap holds: a fourth voucher for the Hengda group is refused" "集团上限生效：给恒达集团的第四张创新券被拒绝"
run issue --budget 2026-科技创新券 --to 91140521MA0000003E --amount 50000 --key bureau.key || refused $?

step "Hengda buys a materials test for 120,000 yuan; the voucher pays 60,000 (50%)" "恒达购买 12 万元的材料检测服务，创新券支付 6 万元（50%）"
at 2026-04-18T15:30:00+08:00
printf '检测服务合同 HD-2026-017\n甲方 沁水恒达新材料有限公司 乙方 太原理工大学分析测试中心\n金额 120000.00\n' >contract-HD-2026-017.txt
run redeem --voucher "$V1" --provider 12140000405000001F --contract contract-HD-2026-017.txt \
    --contract-amount 120000 --amount 60000 --category testing --key sme-hengda.key --out hd-017.req
cat hd-017.req
run cosign hd-017.req --key uni-testing.key
R1=$("$IVL" submit hd-017.req); echo "$R1"

step "Jinxin may not spend at a related party" "金鑫不得在关联方使用创新券"
run redeem --voucher "$V2" --provider 12140000405000001F --contract contract-HD-2026-017.txt \
    --contract-amount 120000 --amount 10000 --category testing --key sme-jinxin.key --cosign uni-testing.key || refused $?

step "The test centre claims, the bureau approves, the finance bureau pays" "测试中心申请拨付，科技局审核通过，财政局拨付"
at 2026-05-06T09:00:00+08:00
printf 'Invoice 2026-0456, 60000.00\n' >invoice-0456.txt
C1=$("$IVL" claim --redemption "$R1" --invoice invoice-0456.txt --key uni-testing.key --receipt claim-receipt.json); echo "$C1"
at 2026-05-12T10:00:00+08:00
run approve "$C1" --key bureau.key
at 2026-05-20T14:00:00+08:00
run pay "$C1" --ref "ICBC-20260520-0091" --key finance.key

step "Jinxin's voucher is revoked: the company was found not to qualify" "金鑫的创新券被撤销：该企业不符合条件"
at 2026-06-01T09:00:00+08:00
run revoke "$V2" --reason "不符合科技型中小企业条件" --key bureau.key

step "The year ends: unspent vouchers expire and the money returns to the budget" "年度结束：未使用的创新券过期，资金退回预算"
at 2027-01-04T09:00:00+08:00
run expire --key bureau.key
run balance 91140521MA00000018
run budget show 2026-科技创新券
run show "$C1"

step "The audit bureau verifies everything and attests" "审计局核验全部记录并出具证明"
run verify
run attest --key audit.key >attested.note
cat attested.note
run checkpoint verify attested.note --pub audit.pub
run proof check claim-receipt.json --log-pub ledger/log.pub
run log
