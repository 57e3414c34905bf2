# Apache Kafka, KRaft single node (broker + controller), from the Maven Central artifacts, run with the
# machine's Java. Sourced by scripts/services.sh, which defines the helpers and ports used here.

KAFKA_DIR="$RUN_DIR/kafka"
KAFKA_CONF="$KAFKA_DIR/server.properties"
KAFKA_PID="$KAFKA_DIR/kafka.pid"
KAFKA_LOG="$KAFKA_DIR/logs/server.log"
KAFKA_STDOUT="$KAFKA_DIR/logs/stdout.log"
KAFKA_LIBS="$CACHE_DIR/kafka/$KAFKA_VERSION/libs"
# Development SCRAM user for the SASL listener (the security tests use it); not a secret.
KAFKA_SCRAM_USER=tapline
KAFKA_SCRAM_PASSWORD=tapline-secret

kafka_ping() { "$(project_node)" "$ROOT/scripts/wait-kafka.ts" "127.0.0.1:$KAFKA_PORT" 5000; }

# Resolves the broker's jars once per version with Maven. The POM of kafka_2.13 declares no logging
# backend; the release tarball ships reload4j (3.x), so we add the same one.
kafka_fetch() {
  [[ -f "$KAFKA_LIBS/.complete" ]] && return 0
  ensure_cmd mvn maven
  local work="$CACHE_DIR/kafka/$KAFKA_VERSION"
  mkdir -p "$work"
  local logging=""
  case "$KAFKA_VERSION" in
    3.*)
      logging='
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>1.2.25</version></dependency>'
      ;;
    *) die "kafka: KAFKA_VERSION=$KAFKA_VERSION is not supported by scripts/services.sh yet (3.x only: its logging backend differs)" ;;
  esac
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tapline.local</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>$logging
  </dependencies>
</project>
EOF
  say "kafka: resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION from Maven Central (first run only)"
  rm -rf "$KAFKA_LIBS"
  (cd "$work" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" >&2) ||
    die "kafka: Maven could not resolve kafka_2.13:$KAFKA_VERSION (is Maven Central reachable? is KAFKA_VERSION right?)"
  touch "$KAFKA_LIBS/.complete"
}

kafka_write_config() {
  mkdir -p "$KAFKA_DIR/data" "$KAFKA_DIR/logs"
  cat >"$KAFKA_CONF" <<EOF
# Written by scripts/services.sh; edits are overwritten on the next 'up'.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT,SASL_PLAINTEXT://127.0.0.1:$KAFKA_SASL_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_PLAINTEXT://127.0.0.1:$KAFKA_SASL_PORT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
log.dirs=$KAFKA_DIR/data
num.partitions=4
# Single node: every internal topic has one replica, and consumer groups start without the 3 s wait.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
# Fewer internal partitions than the defaults (50) so the first group and transaction start quickly.
offsets.topic.num.partitions=8
transaction.state.log.num.partitions=8
auto.create.topics.enable=true
log.retention.hours=168
EOF
  cat >"$KAFKA_DIR/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$KAFKA_LOG
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
EOF
}

kafka_java() {
  java -Xmx512m -Xms256m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" -cp "$KAFKA_LIBS/*" "$@"
}

# Formats the storage once (KRaft needs a cluster id and, here, the SCRAM user before first start).
kafka_format() {
  [[ -f "$KAFKA_DIR/data/meta.properties" ]] && return 0
  local id
  id="$(kafka_java kafka.tools.StorageTool random-uuid 2>>"$KAFKA_STDOUT" | tail -1)"
  [[ -n "$id" ]] || die "kafka: StorageTool random-uuid failed; read $KAFKA_STDOUT"
  echo "$id" >"$KAFKA_DIR/cluster.id"
  kafka_java kafka.tools.StorageTool format -t "$id" -c "$KAFKA_CONF" \
    --add-scram "SCRAM-SHA-256=[name=$KAFKA_SCRAM_USER,password=$KAFKA_SCRAM_PASSWORD]" \
    --add-scram "SCRAM-SHA-512=[name=$KAFKA_SCRAM_USER,password=$KAFKA_SCRAM_PASSWORD]" \
    >>"$KAFKA_STDOUT" 2>&1 || die "kafka: formatting the storage failed; read $KAFKA_STDOUT"
}

kafka_up() {
  if owned_alive "$KAFKA_PID" "$KAFKA_CONF" && kafka_ping 2>/dev/null; then
    say "kafka: already up (ours) on 127.0.0.1:$KAFKA_PORT"
    return
  fi
  if port_open "$KAFKA_PORT"; then
    kafka_ping 2>/dev/null || die "kafka: port $KAFKA_PORT is taken by $(describe_owner "$KAFKA_PORT"), which does not answer a Kafka metadata request; stop it or free the port"
    say "kafka: reusing the broker already answering on 127.0.0.1:$KAFKA_PORT ($(describe_owner "$KAFKA_PORT"))"
    return
  fi
  for p in "$KAFKA_CONTROLLER_PORT" "$KAFKA_SASL_PORT"; do
    port_open "$p" && die "kafka: port $p is taken by $(describe_owner "$p"); Kafka needs 9092-9094"
  done
  ensure_cmd java openjdk-17-jre-headless
  project_node >/dev/null
  kafka_fetch
  kafka_write_config
  kafka_format
  # setsid: the broker must outlive the shell (and test runner) that started it.
  setsid java -Xmx512m -Xms256m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" -cp "$KAFKA_LIBS/*" \
    kafka.Kafka "$KAFKA_CONF" >>"$KAFKA_STDOUT" 2>&1 </dev/null &
  echo $! >"$KAFKA_PID"
  local deadline=$((SECONDS + SERVICES_TIMEOUT))
  until kafka_ping 2>/dev/null; do
    owned_alive "$KAFKA_PID" "$KAFKA_CONF" || die "kafka: the broker exited during start-up; read $KAFKA_LOG and $KAFKA_STDOUT"
    ((SECONDS < deadline)) || die "kafka did not answer within ${SERVICES_TIMEOUT}s; read $KAFKA_LOG"
    sleep 1
  done
  say "kafka $KAFKA_VERSION: up on 127.0.0.1:$KAFKA_PORT (PLAINTEXT), :$KAFKA_SASL_PORT (SASL SCRAM)"
}

kafka_down() {
  if stop_owned "$KAFKA_PID" "$KAFKA_CONF" 30; then
    say "kafka: stopped"
  else
    say "kafka: not started by this checkout; nothing to stop"
  fi
}

kafka_status() {
  if owned_alive "$KAFKA_PID" "$KAFKA_CONF"; then
    echo "kafka       up (ours, pid $(cat "$KAFKA_PID"), $KAFKA_VERSION)  127.0.0.1:$KAFKA_PORT  sasl :$KAFKA_SASL_PORT  log $KAFKA_LOG"
  elif port_open "$KAFKA_PORT"; then
    echo "kafka       up (not ours: $(describe_owner "$KAFKA_PORT"))  127.0.0.1:$KAFKA_PORT"
  else
    echo "kafka       down"
  fi
}
