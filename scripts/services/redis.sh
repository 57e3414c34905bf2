# Redis from Debian's redis-server, with a config of our own (not the system service). Sourced by
# scripts/services.sh, which defines the helpers and ports used here.

REDIS_DIR="$RUN_DIR/redis"
REDIS_CONF="$REDIS_DIR/redis.conf"
REDIS_PID="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

redis_ping() { [[ "$(timeout 3 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

redis_write_config() {
  mkdir -p "$REDIS_DIR"
  cat >"$REDIS_CONF" <<EOF
# Written by scripts/services.sh; edits are overwritten on the next 'up'.
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile $REDIS_PID
logfile $REDIS_LOG
dir $REDIS_DIR
# Tapline keeps idempotency keys and detector state here: the append-only file survives restarts.
appendonly yes
appendfsync ${REDIS_APPENDFSYNC:-everysec}
# The AOF grows 2-4 KB per tap (scripts log what they write). From Redis's default 64 MB, a small
# dataset was rewritten every ~4 s at 5,000 taps/s, and each rewrite's child took a core for ~1 s:
# on two cores that set the decision latency's p99 (docs/BENCHMARKS.md). Rewrite from 1 GB instead.
auto-aof-rewrite-percentage 100
auto-aof-rewrite-min-size 1gb
save ""
EOF
}

redis_up() {
  ensure_cmd redis-server redis-server
  ensure_cmd redis-cli redis-tools
  if owned_alive "$REDIS_PID" "$REDIS_PORT" && redis_ping; then
    say "redis: already up (ours) on 127.0.0.1:$REDIS_PORT"
    return
  fi
  if port_open "$REDIS_PORT"; then
    redis_ping || die "redis: port $REDIS_PORT is taken by $(describe_owner "$REDIS_PORT"), which does not answer PING; stop it or free the port"
    say "redis: reusing the Redis already answering on 127.0.0.1:$REDIS_PORT ($(describe_owner "$REDIS_PORT"))"
    return
  fi
  redis_write_config
  redis-server "$REDIS_CONF" || die "redis: redis-server failed to start; read $REDIS_LOG"
  wait_until redis "$REDIS_LOG" redis_ping
  say "redis: up on 127.0.0.1:$REDIS_PORT (data $REDIS_DIR)"
}

redis_down() {
  if stop_owned "$REDIS_PID" "$REDIS_PORT" 20; then
    say "redis: stopped"
  else
    say "redis: not started by this checkout; nothing to stop"
  fi
}

redis_status() {
  if owned_alive "$REDIS_PID" "$REDIS_PORT"; then
    echo "redis       up (ours, pid $(cat "$REDIS_PID"))  127.0.0.1:$REDIS_PORT  log $REDIS_LOG"
  elif redis_ping; then
    echo "redis       up (not ours: $(describe_owner "$REDIS_PORT"))  127.0.0.1:$REDIS_PORT"
  else
    echo "redis       down"
  fi
}
