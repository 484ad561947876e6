#!/usr/bin/env bash
# The libvirt daemons the tests need (virtlogd, libvirtd), started and stopped where systemd does not run them.
# Usage: ci/libvirt-daemons.sh start|stop|status
#   start   starts virtlogd and libvirtd unless they run already, and waits until qemu:///system answers
#   stop    stops what `start` started, and nothing else: a daemon that ran before `start` is left alone
#   status  tells which of them run, which `start` started, and whether qemu:///system answers
# Needs root (it re-runs itself with `sudo -n` when it can). KSAND_LIBVIRTD_WAIT is how many seconds `start` waits
# for libvirtd to answer (30).
#
# libvirtd autostarts what is marked for it: networks (the default one brings up virbr0 with dnsmasq and firewall
# rules), domains and storage pools. Debian defines the default network without marking it, and nothing is marked on
# a CI machine; where something is, `start` keeps libvirtd from autostarting it the way libvirt itself avoids
# autostarting twice in one boot: a file `autostarted` in the driver's directory under /run/libvirt. `stop` removes
# the files `start` made, so a libvirtd started later in this boot autostarts as usual. Nothing under /etc is changed.
set -euo pipefail

state_dir="${KSAND_LIBVIRT_STATE:-/run/ksand-libvirt-daemons}"
started_file="$state_dir/started"   # "NAME PID" for each daemon `start` started
stamps_file="$state_dir/stamps"     # the autostart files `start` made
uri="qemu:///system"

usage() {
  echo "usage: $0 start|stop|status" >&2
  exit 2
}

# Runs this script as root: itself when root, again through `sudo -n` when that works, else a clear error.
as_root() {
  [ "$(id -u)" -eq 0 ] && return 0
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    exec sudo -n -- "$0" "$@"
  fi
  echo "error: $0 $1 needs root to run libvirtd and virtlogd; run it as root, or allow this user passwordless sudo" >&2
  exit 1
}

# The pid of the running daemon NAME (its pid file first, then any process of that name), or nothing.
daemon_pid() {
  local name="$1" pid
  if [ -r "/run/$name.pid" ]; then
    pid="$(cat "/run/$name.pid")"
    if is_daemon "$name" "$pid"; then
      echo "$pid"
      return
    fi
  fi
  pgrep -x "$name" | head -n 1 || true
}

# Whether PID is a live process called NAME (a pid can be reused once the daemon is gone; a zombie is gone).
is_daemon() {
  [ -n "$2" ] && [ "$(cat "/proc/$2/comm" 2>/dev/null || true)" = "$1" ] &&
    [ "$(awk '{ print $3 }' "/proc/$2/stat" 2>/dev/null || true)" != Z ]
}

answers() {
  timeout 10 virsh -c "$uri" version >/dev/null 2>&1
}

started_pid() {
  if [ -r "$started_file" ]; then awk -v name="$1" '$1 == name { print $2 }' "$started_file"; fi
}

start_daemon() {
  local name="$1" pid
  pid="$(daemon_pid "$name")"
  if [ -n "$pid" ]; then
    if [ "$pid" = "$(started_pid "$name")" ]; then
      echo "$name runs already (pid $pid), from an earlier $0 start"
    else
      echo "$name runs already (pid $pid), not started by $0; leaving it alone"
    fi
    return
  fi
  # Each daemon runs in the foreground under `tini -s`, in a session of its own, the way systemd would run it: the
  # QEMUs libvirtd starts daemonize and become orphans, and an orphan's exit is final only once someone reaps it.
  # libvirtd polls every 200 ms until its QEMU is gone; an init that reaps orphans late (container inits reap every
  # second or so, some never) makes every domain's end wait for it. tini reaps at once. Warnings and errors go to a
  # file of this script's own: libvirt logs to syslog otherwise, which may not run here.
  LIBVIRT_LOG_OUTPUTS="3:file:$state_dir/$name.log" setsid tini -s -- "$name" </dev/null >>"$state_dir/$name.log" 2>&1 &
  # The pid file appears once the daemon has set itself up.
  for _ in $(seq 1 50); do
    pid="$(daemon_pid "$name")"
    [ -n "$pid" ] && break
    sleep 0.1
  done
  if [ -z "$pid" ]; then
    echo "error: $name did not start; its log ($state_dir/$name.log):" >&2
    tail -n 40 "$state_dir/$name.log" >&2 || true
    stop_started
    exit 1
  fi
  echo "$name $pid" >>"$started_file"
  echo "started $name (pid $pid)"
}

# For each libvirt driver with something marked to autostart, the file that tells libvirtd it autostarted already.
suppress_autostart() {
  local driver marks stamp
  for driver in network:/etc/libvirt/qemu/networks/autostart qemu:/etc/libvirt/qemu/autostart storage:/etc/libvirt/storage/autostart; do
    marks="${driver#*:}"
    stamp="/run/libvirt/${driver%%:*}/autostarted"
    [ -n "$(ls -A "$marks" 2>/dev/null || true)" ] || continue
    [ -e "$stamp" ] && continue
    mkdir -p "$(dirname "$stamp")"
    touch "$stamp"
    chmod 0600 "$stamp"
    echo "$stamp" >>"$stamps_file"
    echo "libvirtd will not autostart what $marks marks (made $stamp until stop)"
  done
}

wait_until_answering() {
  local limit="${KSAND_LIBVIRTD_WAIT:-30}" pid
  pid="$(started_pid libvirtd)"
  local deadline=$((SECONDS + limit))
  until answers; do
    if [ -n "$pid" ] && ! is_daemon libvirtd "$pid"; then
      echo "error: libvirtd (pid $pid) exited before answering on $uri; its log ($state_dir/libvirtd.log):" >&2
      tail -n 40 "$state_dir/libvirtd.log" >&2 || true
      stop_started
      exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "error: libvirtd did not answer on $uri within ${limit}s (KSAND_LIBVIRTD_WAIT); its log ($state_dir/libvirtd.log):" >&2
      tail -n 40 "$state_dir/libvirtd.log" >&2 || true
      virsh -c "$uri" version >&2 || true
      stop_started
      exit 1
    fi
    sleep 0.2
  done
}

# Stops PID (the daemon NAME): SIGTERM, up to 15 s to exit, then SIGKILL.
stop_pid() {
  local name="$1" pid="$2"
  if ! is_daemon "$name" "$pid"; then
    echo "$name (pid $pid) is gone already"
    return
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do
    is_daemon "$name" "$pid" || { echo "stopped $name (pid $pid)"; return; }
    sleep 0.1
  done
  echo "warning: $name (pid $pid) ignored SIGTERM for 15 s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

# Stops what `start` recorded, libvirtd before virtlogd (libvirtd writes its domains' logs through virtlogd), and
# removes the autostart files it made.
stop_started() {
  local name pid domains
  for name in libvirtd virtlogd; do
    pid="$(started_pid "$name")"
    [ -n "$pid" ] || continue
    if [ "$name" = libvirtd ] && is_daemon libvirtd "$pid"; then
      domains="$(timeout 10 virsh -c "$uri" list --name 2>/dev/null | grep . | tr '\n' ' ' || true)"
      if [ -n "$domains" ]; then
        echo "warning: these domains still run, and outlive libvirtd: $domains" >&2
      fi
    fi
    stop_pid "$name" "$pid"
  done
  if [ -r "$stamps_file" ]; then
    while read -r stamp; do rm -f -- "$stamp"; done <"$stamps_file"
  fi
  rm -f -- "$started_file" "$stamps_file"
}

status() {
  local name pid ours
  for name in virtlogd libvirtd; do
    pid="$(daemon_pid "$name")"
    ours="$(started_pid "$name")"
    if [ -z "$pid" ]; then
      echo "$name: not running"
    elif [ "$pid" = "$ours" ]; then
      echo "$name: running (pid $pid), started by $0"
    else
      echo "$name: running (pid $pid), not started by $0"
    fi
  done
  if answers; then
    echo "$uri: answers"
  else
    echo "$uri: does not answer"
    return 3
  fi
}

[ $# -eq 1 ] || usage
case "$1" in
  start)
    as_root "$@"
    if [ -d /run/systemd/system ]; then
      # systemd runs libvirt's daemons here (through their sockets); ones started beside it would fight over them.
      if answers; then
        echo "$uri answers (systemd runs libvirt here); nothing to start"
        exit 0
      fi
      echo "error: systemd runs this machine but $uri does not answer; start libvirt with: systemctl start libvirtd.socket virtlogd.socket" >&2
      exit 1
    fi
    if ! command -v tini >/dev/null && { [ -z "$(daemon_pid virtlogd)" ] || [ -z "$(daemon_pid libvirtd)" ]; }; then
      echo "error: $0 start runs the daemons under tini, which is not installed: apt-get install tini (ci/install-deps.sh installs it)" >&2
      exit 1
    fi
    mkdir -p "$state_dir"
    chmod 0755 "$state_dir"
    start_daemon virtlogd
    if [ -z "$(daemon_pid libvirtd)" ]; then suppress_autostart; fi
    start_daemon libvirtd
    wait_until_answering
    echo "$uri answers"
    ;;
  stop)
    as_root "$@"
    if [ ! -e "$started_file" ] && [ ! -e "$stamps_file" ]; then
      echo "nothing was started by $0 start; nothing to stop"
      exit 0
    fi
    stop_started
    rm -f -- "$state_dir/virtlogd.log" "$state_dir/libvirtd.log"
    rmdir -- "$state_dir" 2>/dev/null || true
    ;;
  status)
    status
    ;;
  *)
    usage
    ;;
esac
