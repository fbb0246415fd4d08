#!/usr/bin/env bash
# Re-records every scenario of this directory from the real test cluster (scripts/slurm-cluster):
#   tests/data/slurm/22.05/record.sh        (as root; leaves the cluster idle and running)
# Each scenario is a directory with one file per command: NAME.out (stdout), and NAME.err and
# NAME.rc only when the command wrote to stderr or exited non-zero. See README.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../../.." && pwd)"
DIR="${FACSTAT_SLURM_DIR:-/var/lib/facstat-slurm}"
export SLURM_CONF="$DIR/etc/slurm.conf"

# The argv of collectors/slurm/render.py, plus `scontrol -o show node` (a second node source).
declare -A COMMANDS=(
  [sinfo.json]="sinfo --json"
  [squeue.json]="squeue --json"
  [scontrol-partition]="scontrol --all -o show partition"
  [scontrol-node]="scontrol -o show node"
  [scontrol-reservation]="scontrol -o show reservation"
  [sdiag]="sdiag"
  [sacctmgr-qos]="sacctmgr -P show qos"
)

record() {  # record SCENARIO: run every command, keep stdout, stderr and exit code
  local out="$HERE/$1" name rc
  rm -rf "$out" && mkdir -p "$out"
  for name in "${!COMMANDS[@]}"; do
    rc=0
    ${COMMANDS[$name]} >"$out/$name.out" 2>"$out/$name.err" || rc=$?
    [ -s "$out/$name.err" ] || rm "$out/$name.err"
    [ "$rc" -eq 0 ] || echo "$rc" >"$out/$name.rc"
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
  record idle
  jobs
  reservations
  record jobs
  reset
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
