# Logging and failure helpers shared by the network scripts (sourced, not executed).
# Progress goes to stderr so that scripts can print machine-readable results on stdout.

MB_TAG=${MB_TAG:-medbridge}

step() { printf '\033[1m==> [%3ss] %s\033[0m\n' "$SECONDS" "$*" >&2; }
info() { printf '    %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; record_error "$*"; exit 1; }

# record_error MESSAGE: with MEDBRIDGE_ERROR_FILE set (the test set-up sets it), the reason of a
# failure is also written there, so that a caller can repeat it after the clean-up output.
record_error() {
  [[ -n ${MEDBRIDGE_ERROR_FILE:-} ]] || return 0
  printf '%s\n' "$1" >"$MEDBRIDGE_ERROR_FILE" 2>/dev/null || true
}

# die_with_log MESSAGE LOGFILE [LINES]: fail and show the end of the log that explains why.
die_with_log() {
  local msg=$1 log=$2 lines=${3:-40}
  printf 'error: %s\n' "$msg" >&2
  record_error "$msg (see $log)"
  if [[ -f $log ]]; then
    printf -- '--- last %s lines of %s ---\n' "$lines" "$log" >&2
    tail -n "$lines" "$log" >&2
    printf -- '--- end of %s ---\n' "$log" >&2
  fi
  exit 1
}

# now_ms: wall clock in milliseconds, for step timings.
now_ms() { date +%s%3N; }
