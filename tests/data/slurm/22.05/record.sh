#!/usr/bin/env bash
# Re-records every scenario of this directory from the real test cluster (scripts/slurm-cluster):
#   tests/data/slurm/22.05/record.sh        (as root; leaves the cluster idle and running)
# Each scenario is a directory with one file per command: NAME.out (stdout), and NAME.err and
# NAME.rc only when the command wrote to stderr or exited non-zero; and restd/, slurmrestd's
# answers to the same questions at the same moment (curl over its unix socket): NAME.json (the
# body) and NAME.status only when the HTTP status was not 200. See README.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../../.." && pwd)"
DIR="${FACSTAT_SLURM_DIR:-/var/lib/facstat-slurm}"
export SLURM_CONF="$DIR/etc/slurm.conf"
export SLURM_TIME_FORMAT=standard  # as the collector runs them; squeue's own is below
REST_SOCKET="$DIR/run/slurmrestd.socket"

# The argv (and SLURM_TIME_FORMAT) of collectors/slurm/render.py, plus `squeue --json` and
# `scontrol -o show node` (second sources of the jobs and the nodes).
SQUEUE_FORMAT="JobID:|,Partition:|,QOS:|,State:|,Reason:|,SubmitTime:|,EligibleTime:|,StartTime:|,EndTime:|,ArrayTaskID:|,Name:"
declare -A COMMANDS=(
  [sinfo.json]="sinfo --json"
  [squeue]="env SLURM_TIME_FORMAT=%s squeue --noheader --all --states=all --Format=$SQUEUE_FORMAT"
  [squeue.json]="squeue --json"
  [scontrol-partition]="scontrol --all -o show partition"
  [scontrol-node]="scontrol -o show node"
  [scontrol-reservation]="scontrol -o show reservation"
  [sdiag]="sdiag"
  [sacctmgr-qos]="sacctmgr -P show qos"
)

# The requests of collectors/slurm/restd.py (openapi/v0.0.38 and dbv0.0.38).
declare -A REQUESTS=(
  [diag]=slurm/v0.0.38/diag
  [nodes]=slurm/v0.0.38/nodes
  [partitions]=slurm/v0.0.38/partitions
  [jobs]=slurm/v0.0.38/jobs
  [reservations]=slurm/v0.0.38/reservations
  [qos]=slurmdb/v0.0.38/qos
)

run_command() {  # run_command OUT NAME: keep stdout, stderr and exit code of one command
  local rc=0
  ${COMMANDS[$2]} >"$1/$2.out" 2>"$1/$2.err" || rc=$?
  [ -s "$1/$2.err" ] || rm "$1/$2.err"
  [ "$rc" -eq 0 ] || echo "$rc" >"$1/$2.rc"
}

get() {  # get OUT NAME: keep the body and (when not 200) the HTTP status of one request
  local status
  status=$(curl -sS --max-time 60 --unix-socket "$REST_SOCKET" -o "$1/restd/$2.json" \
    -w '%{http_code}' "http://localhost/${REQUESTS[$2]}") || status=000
  [ "$status" = 200 ] || echo "$status" >"$1/restd/$2.status"
}

record() {  # record SCENARIO: every command and request; sdiag and /diag first, back to back
  local out="$HERE/$1" name
  rm -rf "$out" && mkdir -p "$out/restd"
  run_command "$out" sdiag
  get "$out" diag
  for name in "${!COMMANDS[@]}"; do
    [ "$name" = sdiag ] || run_command "$out" "$name"
  done
  for name in "${!REQUESTS[@]}"; do
    [ "$name" = diag ] || get "$out" "$name"
  done
  echo "recorded $1"
}

reset() {
  "$ROOT/scripts/slurm-cluster" start >/dev/null
  scancel --full -u root 2>/dev/null || true
  for r in $(scontrol -o show reservation | sed -n 's/^ReservationName=\([^ ]*\).*/\1/p'); do
    scontrol delete reservationname="$r"
  done
  for n in node1 node2 node3 node4; do
    scontrol update nodename=$n state=resume 2>/dev/null || true
  done
  sleep 3
}

restart_controller() {  # a fresh slurmctld: no backfill cycle yet, so no node is PLANNED
  local pid
  pid=$(cat "$DIR/run/slurmctld.pid")
  kill "$pid"
  while kill -0 "$pid" 2>/dev/null && ! grep -qE '^[0-9]+ \(.*\) Z' "/proc/$pid/stat"; do
    sleep 0.2
  done
  "$ROOT/scripts/slurm-cluster" start >/dev/null
}

submit() { sbatch --parsable -o /dev/null "$@" >/dev/null; }

jobs() {
  submit -p batch -n 4 -N 1 -t 30 --wrap 'sleep 600' -J full-node
  submit -p batch -n 2 -N 1 -t 30 --gres=gpu:1 --mem=2000 --wrap 'sleep 600' -J gpu-job
  submit -p batch -n 2 -N 1 -t 30 --array=1-6 --wrap 'sleep 600' -J array
  submit -p interactive -n 4 -t 30 --qos=urgent --wrap 'sleep 600' -J urgent
  submit -p interactive -n 4 -t 30 --wrap 'sleep 600' -J waits-interactive
  submit -p batch -n 1 -t 30 -H --wrap 'sleep 600' -J held
  submit -p batch -n 1 -t 30 --begin=now+3600 --wrap 'sleep 600' -J later
  sleep 3
}

reservations() {
  scontrol create reservation reservationname=maint_next starttime=now+7200 duration=120 \
    nodes=ALL flags=MAINT,IGNORE_JOBS users=root
  scontrol create reservation reservationname=beamtime starttime=now duration=60 nodes=node4 \
    users=root flags=IGNORE_JOBS
}

main() {
  reset
  restart_controller  # idle/ has sdiag before any backfill cycle
  record idle
  jobs
  reservations
  record jobs
  reset
  restart_controller
  scontrol update nodename=node2 state=drain reason="bad DIMM"
  scontrol create reservation reservationname=maint_now starttime=now duration=30 nodes=node3 \
    flags=MAINT,IGNORE_JOBS users=root
  jobs
  scontrol update nodename=node1 state=drain reason="NHC: gpu"
  sleep 5  # the MAINT flag reaches the node a few seconds after the reservation starts
  record drained
  reset
  jobs
  kill "$(cat "$DIR/run/slurmd-node4.pid")"
  scontrol update nodename=node3 state=down reason="PSU failure"
  sleep 25  # SlurmdTimeout=10 plus a ping interval
  record down
  kill "$(cat "$DIR/run/slurmctld.pid")"
  sleep 1
  record controller-down
  reset
  kill "$(cat "$DIR/run/slurmdbd.pid")"
  sleep 1
  record slurmdbd-down
  reset
}

main "$@"
