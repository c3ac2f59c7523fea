#!/usr/bin/env bash
# Runs one golden script through the real `caseloop` binary in a fresh
# database and compares what it printed with what was expected.
#
#   run_golden.sh CASELOOP_BINARY DIR/NAME.cl
#
# Expected results, next to the script:
#   NAME.out  stdout (absent: stdout must be empty)
#   NAME.err  stderr (absent: not compared)
# Directives in comment lines of the script:
#   # exit: N      exit status of `caseloop run` (default 0)
#   # args: ...    extra flags for `run`, e.g. --keep-going --echo
#   # stdin        feed the script on stdin (`run -`) instead of by path
#   # then: ARGS   afterwards, run `caseloop --db DB ARGS` on the same database;
#                  its stdout follows a "$ caseloop ARGS" line in the output, and
#                  a non-zero exit status adds an "[exit N]" line
# CASELOOP_GOLDEN_UPDATE=1 rewrites NAME.out (and an existing NAME.err) instead.
set -u
bin=$1
script=$2
dir=$(dirname "$script")
name=$(basename "$script" .cl)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

want_exit=$(sed -n 's/^# exit: *\([0-9][0-9]*\).*/\1/p' "$script" | head -n 1)
want_exit=${want_exit:-0}
args=$(sed -n 's/^# args: *//p' "$script" | head -n 1)

if grep -q '^# stdin *$' "$script"; then
  # shellcheck disable=SC2086
  "$bin" --db "$tmp/db" run $args - <"$script" >"$tmp/out" 2>"$tmp/err"
else
  # shellcheck disable=SC2086
  "$bin" --db "$tmp/db" run $args "$script" >"$tmp/out" 2>"$tmp/err"
fi
got_exit=$?

while IFS= read -r then_args; do
  echo "\$ caseloop $then_args" >>"$tmp/out"
  eval "set -- $then_args"
  "$bin" --db "$tmp/db" "$@" >>"$tmp/out" 2>>"$tmp/err"
  code=$?
  [[ $code -ne 0 ]] && echo "[exit $code]" >>"$tmp/out"
done < <(sed -n 's/^# then: *//p' "$script")

if [[ "${CASELOOP_GOLDEN_UPDATE:-}" == 1 ]]; then
  if [[ -s "$tmp/out" ]]; then cp "$tmp/out" "$dir/$name.out"; else rm -f "$dir/$name.out"; fi
  [[ -f "$dir/$name.err" ]] && cp "$tmp/err" "$dir/$name.err"
  echo "updated $name (exit $got_exit, expected $want_exit)"
  exit 0
fi

fail=0
if [[ $got_exit -ne $want_exit ]]; then
  echo "FAIL $name: exit status $got_exit, expected $want_exit"
  fail=1
fi
want_out="$dir/$name.out"
[[ -f "$want_out" ]] || want_out=/dev/null
if ! diff -u "$want_out" "$tmp/out" >"$tmp/diff"; then
  echo "FAIL $name: stdout differs from $want_out:"
  cat "$tmp/diff"
  fail=1
fi
if [[ -f "$dir/$name.err" ]] && ! diff -u "$dir/$name.err" "$tmp/err" >"$tmp/diff"; then
  echo "FAIL $name: stderr differs from $dir/$name.err:"
  cat "$tmp/diff"
  fail=1
fi
if [[ $fail -ne 0 ]]; then
  echo "--- stderr of the run:"
  cat "$tmp/err"
  exit 1
fi
echo "ok $name"
