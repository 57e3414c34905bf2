# ClickHouse server from Debian's clickhouse-server (18.16), with a config of our own. Tapline's default
# store is embedded chDB; this server exists so the HTTP transport is tested against a real server.
# Sourced by scripts/services.sh, which defines the helpers and ports used here.

CH_DIR="$RUN_DIR/clickhouse"
CH_CONF="$CH_DIR/config.xml"
CH_USERS="$CH_DIR/users.xml"
CH_PID="$CH_DIR/clickhouse.pid"
CH_LOG="$CH_DIR/log/clickhouse-server.err.log"

# SELECT 1 over HTTP with bash's /dev/tcp, so a fresh machine needs no curl.
clickhouse_ping() {
  local reply
  { exec 3<>"/dev/tcp/127.0.0.1/$CLICKHOUSE_HTTP_PORT"; } 2>/dev/null || return 1
  printf 'GET /?query=SELECT%%201 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  reply="$(timeout 3 cat <&3)"
  exec 3>&-
  [[ "$reply" == *$'\r\n\r\n1'* ]]
}

clickhouse_write_config() {
  mkdir -p "$CH_DIR/data" "$CH_DIR/tmp" "$CH_DIR/user_files" "$CH_DIR/log"
  # 18.16 keeps <yandex> as the root element. Caches are far below the packaged defaults (5-8 GB):
  # these machines have two cores and are shared with Kafka and the tests.
  cat >"$CH_CONF" <<EOF
<?xml version="1.0"?>
<!-- Written by scripts/services.sh; edits are overwritten on the next 'up'. -->
<yandex>
  <logger>
    <level>warning</level>
    <log>$CH_DIR/log/clickhouse-server.log</log>
    <errorlog>$CH_LOG</errorlog>
    <size>50M</size>
    <count>2</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$CLICKHOUSE_HTTP_PORT</http_port>
  <tcp_port>$CLICKHOUSE_TCP_PORT</tcp_port>
  <path>$CH_DIR/data/</path>
  <tmp_path>$CH_DIR/tmp/</tmp_path>
  <user_files_path>$CH_DIR/user_files/</user_files_path>
  <users_config>$CH_USERS</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
</yandex>
EOF
  # `default` has no password (development); `tapline_ro` is the read-only reporting user.
  cat >"$CH_USERS" <<'EOF'
<?xml version="1.0"?>
<yandex>
  <profiles>
    <default><max_memory_usage>2000000000</max_memory_usage></default>
    <readonly><readonly>1</readonly></readonly>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
    <tapline_ro>
      <password>readonly-secret</password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>readonly</profile>
      <quota>default</quota>
    </tapline_ro>
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries><errors>0</errors><result_rows>0</result_rows>
        <read_rows>0</read_rows><execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
EOF
}

clickhouse_up() {
  ensure_cmd clickhouse-server clickhouse-server clickhouse-client
  if owned_alive "$CH_PID" "$CH_CONF" && clickhouse_ping; then
    say "clickhouse: already up (ours) on 127.0.0.1:$CLICKHOUSE_HTTP_PORT"
    return
  fi
  if port_open "$CLICKHOUSE_HTTP_PORT"; then
    clickhouse_ping || die "clickhouse: port $CLICKHOUSE_HTTP_PORT is taken by $(describe_owner "$CLICKHOUSE_HTTP_PORT"), which does not answer SELECT 1; stop it or free the port"
    say "clickhouse: reusing the server already answering on 127.0.0.1:$CLICKHOUSE_HTTP_PORT ($(describe_owner "$CLICKHOUSE_HTTP_PORT"))"
    return
  fi
  port_open "$CLICKHOUSE_TCP_PORT" && die "clickhouse: native port $CLICKHOUSE_TCP_PORT is taken by $(describe_owner "$CLICKHOUSE_TCP_PORT")"
  clickhouse_write_config
  # The packaged server runs fine as root with its own config; --daemon detaches it, and it removes
  # its pid file itself on a clean stop. Its working directory matters for relative paths only.
  (cd "$CH_DIR" && clickhouse-server --config-file="$CH_CONF" --pid-file="$CH_PID" --daemon) ||
    die "clickhouse: clickhouse-server failed to start; read $CH_LOG"
  wait_until clickhouse "$CH_LOG" clickhouse_ping
  say "clickhouse: up on 127.0.0.1:$CLICKHOUSE_HTTP_PORT (HTTP), :$CLICKHOUSE_TCP_PORT (native)"
}

clickhouse_down() {
  if stop_owned "$CH_PID" "$CH_CONF" 30; then
    say "clickhouse: stopped"
  else
    say "clickhouse: not started by this checkout; nothing to stop"
  fi
}

clickhouse_status() {
  if owned_alive "$CH_PID" "$CH_CONF"; then
    echo "clickhouse  up (ours, pid $(tr -dc '0-9' <"$CH_PID"))  http://127.0.0.1:$CLICKHOUSE_HTTP_PORT  native :$CLICKHOUSE_TCP_PORT  log $CH_LOG"
  elif clickhouse_ping; then
    echo "clickhouse  up (not ours: $(describe_owner "$CLICKHOUSE_HTTP_PORT"))  http://127.0.0.1:$CLICKHOUSE_HTTP_PORT"
  else
    echo "clickhouse  down"
  fi
}
