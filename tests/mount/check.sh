# SPDX-License-Identifier: MIT
# shellcheck shell=sh
# check WHAT EXPECTED ACTUAL: prints ok or FAILED, counting them in $failures (the caller sets it to 0).
check() {
  if [ "$2" = "$3" ]; then
    echo "ok: $1"
  else
    echo "FAILED: $1: expected [$2], got [$3]"
    failures=$((failures + 1))
  fi
}
