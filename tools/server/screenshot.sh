#!/usr/bin/env bash
# Loads the `discern serve` web page in headless Chromium and screenshots it after it has
# submitted a real photo (a cat, a dog and a flower from the shared datasets).
#
# How the photo gets in, honestly: the server is started with `--examples DIR` (off by default),
# which lets `GET /examples/NAME` serve image files directly inside DIR; the page, opened as
# `/?example=NAME`, fetches that file and submits it through exactly the code path a picked or
# dropped file takes (POST /v1/predict, then POST /v1/explain). Chromium's `--screenshot` with a
# virtual-time budget captures the page once those requests have been answered.
#
# Usage: tools/server/screenshot.sh MODEL_FILE [OUT_DIR]   (env DISCERN=path/to/discern, PORT=8091, DISCERN_DATASETS)
set -euo pipefail
model=${1:?usage: screenshot.sh MODEL_FILE [OUT_DIR]}
out=${2:-screenshots}
root=$(cd "$(dirname "$0")/../.." && pwd)
discern=${DISCERN:-$root/.build/release/discern}
port=${PORT:-8091}
data=${DISCERN_DATASETS:-$root/../shared/datasets}
[ -d "$data/cats-and-dogs" ] || { echo "no cats-and-dogs/ in $data (set DISCERN_DATASETS)" >&2; exit 1; }
command -v chromium >/dev/null || { echo "needs Debian's chromium (apt-get install -y chromium)" >&2; exit 1; }
[ -x "$discern" ] || { echo "no discern binary at $discern (swift build -c release, or set DISCERN)" >&2; exit 1; }

examples=$(mktemp -d)
profile=$(mktemp -d)
mkdir -p "$out"
# The first photo of each folder, by name: no hand-picking.
shopt -s nullglob nocaseglob
for dir in cats-and-dogs/test_set/cats cats-and-dogs/test_set/dogs unknown/flowers; do
    files=("$data/$dir"/*.jpg "$data/$dir"/*.jpeg "$data/$dir"/*.png)
    [ ${#files[@]} -gt 0 ] || { echo "no images in $data/$dir" >&2; exit 1; }
    first=$(printf '%s\n' "${files[@]}" | sort | sed -n 1p)
    ln -s "$first" "$examples/$(basename "$first")"
done

"$discern" serve --model "$model" --port "$port" --examples "$examples" > "$out/server.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$examples" "$profile"; }
trap cleanup EXIT
for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    kill -0 "$server" 2>/dev/null || { echo "server exited; see $out/server.log" >&2; exit 1; }
    sleep 0.5
done

for f in $(ls "$examples"); do
    png="$out/${f%.*}.png"
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
        --window-size=1000,1150 --virtual-time-budget=60000 \
        --screenshot="$png" "http://127.0.0.1:$port/?example=$f" >/dev/null 2>&1
    echo "$f -> $png"
done
echo "server log: $out/server.log"
