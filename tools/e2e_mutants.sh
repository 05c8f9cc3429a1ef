#!/usr/bin/env bash
# Do the end-to-end command tests notice a broken command? Each mutant below is a wrapper around the real
# binary that breaks one behaviour a test claims to check (it changes what one subcommand prints or writes, and
# passes every other command through). The script runs that test against the mutant (DISCERN_BINARY) and
# expects it to FAIL; it then runs it against the real binary and expects it to pass.
#   tools/e2e_mutants.sh            after `scripts/test` (needs its release binary and built tests)
#   tools/e2e_mutants.sh classify   one mutant only
# Exit status: 0 when every mutant was caught and every test passed on the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."
real="$(swift build -c release --show-bin-path)/discern"
[ -x "$real" ] || { echo "e2e_mutants: no release binary at $real (run scripts/test first)" >&2; exit 2; }
work="$(mktemp -d /tmp/discern-mutants.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# mutant NAME BODY: a wrapper that runs BODY (shell; $REAL is the real binary), then passes anything else through
mutant() {
    local name=$1 body=$2
    printf '#!/usr/bin/env bash\nREAL=%q\n%s\nexec "$REAL" "$@"\n' "$real" "$body" > "$work/$name"
    chmod +x "$work/$name"
}
mutant predict 'if [ "$1" = predict ]; then "$REAL" "$@" | python3 -c "
import json, sys
answers = json.load(sys.stdin)
for a in answers: a[\"logits\"][0] += 0.05
print(json.dumps(answers))"; exit ${PIPESTATUS[0]}; fi'
mutant evaluate 'if [ "$1" = evaluate ]; then "$REAL" "$@" || exit $?
  out=""; prev=""; for a in "$@"; do [ "$prev" = --out ] && out=$a; prev=$a; done
  python3 -c "
import json, sys
path = sys.argv[1] + \"/metrics.json\"; m = json.load(open(path))
m[\"test\"][\"accuracy\"] -= 1 / 24
json.dump(m, open(path, \"w\"))" "$out"; exit 0; fi'
mutant classify 'if [ "$1" = classify ]; then "$REAL" "$@" | python3 -c "
import json, sys
answers = json.load(sys.stdin)
for a in answers: a[\"top\"] = a[\"top\"][::-1]
print(json.dumps(answers))"; exit ${PIPESTATUS[0]}; fi'
mutant explain 'if [ "$1" = explain ]; then "$REAL" "$@" || exit $?
  out=""; prev=""; for a in "$@"; do [ "$prev" = --out ] && out=$a; prev=$a; done
  python3 -c "
import glob, sys, numpy as np
for f in glob.glob(sys.argv[1] + \"/*.cam-feature.npy\"):
    np.save(f, np.ascontiguousarray(np.load(f)[:, ::-1]))" "$out"; exit 0; fi'
mutant bench 'if [ "$1" = bench ]; then args=(); prev=""
  for a in "$@"; do [ "$prev" = --batch ] && a=1; args+=("$a"); prev=$a; done; exec "$REAL" "${args[@]}"; fi'
mutant train 'if [ "$1" = train ]; then args=(); prev=""
  for a in "$@"; do [ "$prev" = --seed ] && a=$((a + 1)); args+=("$a"); prev=$a; done; exec "$REAL" "${args[@]}"; fi'

declare -A filter=(
    [predict]=PredictCommandTests [evaluate]=EvaluateCommandTests [classify]=ClassifyCommandTests
    [explain]=ExplainCommandTests [bench]=BenchCommandTests.testBackboneLineFollowsTheISACap
    [train]=TrainCommandTests
)
declare -A broken=(
    [predict]="first logit +0.05" [evaluate]="test accuracy one image lower in metrics.json"
    [classify]="top-5 in reverse order" [explain]="7x7 map mirrored left-right"
    [bench]="measures batch 1 whatever --batch says" [train]="trains with seed+1"
)
names=("${@:-predict evaluate classify explain bench train}")
status=0
for name in ${names[*]}; do
    test=${filter[$name]:?unknown mutant $name}
    if DISCERN_BINARY="$work/$name" swift test --skip-build --filter "$test" > "$work/$name.log" 2>&1; then
        echo "mutant $name (${broken[$name]}): NOT caught by $test"; status=1
    else
        echo "mutant $name (${broken[$name]}): caught by $test"
    fi
    if DISCERN_BINARY="$real" swift test --skip-build --filter "$test" > "$work/$name.real.log" 2>&1; then
        echo "  real binary: $test passed"
    else
        echo "  real binary: $test FAILED"; tail -n 20 "$work/$name.real.log"; status=1
    fi
done
exit $status
