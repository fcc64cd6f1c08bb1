#!/bin/sh
# SPDX-License-Identifier: MIT
# Sourced by the tests that run systemd/fieldfs@.service's lines the way systemd runs them for
# one instance: %i and %I replaced by the instance, Environment= exported, every line of a key
# in order, a leading "-" ignoring that line's failure, $VAR split into words and ${VAR} kept
# one word. The tests run the unit's own text, so that they test what systemd will run.

# unit_lines UNIT INSTANCE KEY: the values of KEY= in UNIT, specifiers replaced, one a line.
unit_lines() {
  sed -n "s/^$3=//p" "$1" | sed "s/%[iI]/$2/g"
}

# unit_env UNIT INSTANCE: exports the assignments of the unit's Environment= lines.
unit_env() {
  eval "export $(unit_lines "$1" "$2" Environment | tr '\n' ' ')"
}

# unit_run UNIT INSTANCE KEY [exec]: runs KEY's lines in order and fails at the first that
# fails without a "-"; with exec, the shell becomes the first line's command (ExecStart=).
unit_run() {
  _lines=$(unit_lines "$1" "$2" "$3")
  _how=${4:-}
  if [ -z "$_lines" ]; then
    echo "the unit has no $3=" >&2
    return 1
  fi
  while IFS= read -r _line; do
    _may_fail=no
    case $_line in -*) _may_fail=yes _line=${_line#-} ;; esac
    _line=$(printf '%s\n' "$_line" | sed 's/\${\([A-Za-z_][A-Za-z0-9_]*\)}/"${\1}"/g')
    if [ "$_how" = exec ]; then eval "exec $_line" </dev/null; fi
    eval "$_line" </dev/null || [ "$_may_fail" = yes ] || return 1
  done <<EOF_LINES
$_lines
EOF_LINES
}
