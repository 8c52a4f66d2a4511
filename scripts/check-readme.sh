#!/usr/bin/env bash
# Runs the README's quick commands, so that the README cannot go stale: every ```sh block that follows a line
# <!-- check-readme --> runs, in order, with bash -e, in a scratch folder that sees the repository's data/ and
# models/ and a ./jgpt that is the launcher. A block that fails stops the check with its commands and output.
# Usage: scripts/check-readme.sh [README]    (JGPT_README_TIMEOUT: seconds per block, default 300)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readme=${1:-$root/README.md}
timeout_s=${JGPT_README_TIMEOUT:-300}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
ln -s "$root/data" "$scratch/data"
ln -s "$root/models" "$scratch/models"
cp "$readme" "$scratch/README.md"
printf '#!/usr/bin/env bash\nexec %q "$@"\n' "$root/jgpt" > "$scratch/jgpt"
chmod +x "$scratch/jgpt"

# The marked blocks, each written to its own file: block-1.sh, block-2.sh, ...
awk -v dir="$scratch" '
  /^<!-- check-readme -->$/ { marked = 1; next }
  marked && /^```sh$/       { n++; file = dir "/block-" n ".sh"; inside = 1; marked = 0; next }
  inside && /^```$/         { inside = 0; close(file); next }
  inside                    { print > file; next }
  NF                        { marked = 0 }
' "$readme"

blocks=$(find "$scratch" -maxdepth 1 -name 'block-*.sh' | wc -l)
if [ "$blocks" -eq 0 ]; then
  echo "check-readme: no blocks marked <!-- check-readme --> in $readme" >&2
  exit 1
fi

start=$SECONDS
for ((i = 1; i <= blocks; i++)); do
  block="$scratch/block-$i.sh"
  echo "check-readme: block $i of $blocks: $(head -n 1 "$block")" >&2
  if ! (cd "$scratch" && timeout "$timeout_s" bash -e -o pipefail "$block" >"$scratch/out.txt" 2>&1 </dev/null); then
    echo "check-readme: block $i failed:" >&2
    sed 's/^/    /' "$block" >&2
    echo "  its output:" >&2
    tail -n 40 "$scratch/out.txt" | sed 's/^/    /' >&2
    exit 1
  fi
done
echo "check-readme: all $blocks blocks ran ($((SECONDS - start)) s)" >&2
