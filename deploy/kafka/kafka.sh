#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft) broker from Maven Central jars, on 127.0.0.1 only.
#   deploy/kafka/kafka.sh start|stop|status|restart
# Idempotent: a second start while running is a no-op; stop on a stopped broker is a no-op.
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), STANCEWATCH_CACHE (.cache).
# KAFKA_SASL=scram: the client listener is SASL_PLAINTEXT (SCRAM-SHA-512 and PLAIN) and the user
# KAFKA_SASL_USERNAME (stancewatch) / KAFKA_SASL_PASSWORD (stancewatch-secret) exists from the first start.
# KAFKA_TLS=1: the client listener is TLS (SSL, or SASL_SSL with KAFKA_SASL), its certificate signed by a
# CA made here for 127.0.0.1; clients trust $STANCEWATCH_CACHE/kafka-tls-PORT/ca.pem.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${STANCEWATCH_CACHE:-$root/.cache}
port=${KAFKA_PORT:-9092}
cport=${KAFKA_CONTROLLER_PORT:-9093}
sasl=${KAFKA_SASL:-}
sasl_user=${KAFKA_SASL_USERNAME:-stancewatch}
sasl_password=${KAFKA_SASL_PASSWORD:-stancewatch-secret}
# The broker's own user, for its inter-broker connections on the SASL listener (loopback only).
broker_password=broker-secret-$port
jars=$cache/kafka-jars
tls=${KAFKA_TLS:-}
tlsdir=$cache/kafka-tls-$port
case "$sasl" in
  "") data=$cache/kafka-data-$port ;;
  # Own data folder: SCRAM users are written when the storage is formatted, so a plain one has none.
  scram) data=$cache/kafka-data-$port-scram ;;
  *) echo "kafka: KAFKA_SASL must be empty or 'scram', not '$sasl'" >&2; exit 2 ;;
esac
case "$tls" in
  "" | 0) tls= ;;
  1) ;;
  *) echo "kafka: KAFKA_TLS must be empty, 0 or 1, not '$tls'" >&2; exit 2 ;;
esac
# The client listener's protocol, which is also its name.
protocol=PLAINTEXT
[ -n "$sasl" ] && protocol=SASL_PLAINTEXT
[ -n "$tls" ] && protocol=SSL
[ -n "$sasl" ] && [ -n "$tls" ] && protocol=SASL_SSL
listener=$(echo "$protocol" | tr '[:upper:]' '[:lower:]')
pidfile=$cache/kafka-$port.pid
log=$cache/kafka-$port.log
conf=$cache/kafka-$port.properties

die() { echo "kafka: $*" >&2; exit 1; }

fetch_jars() {
  [ -f "$jars/.complete" ] && return 0
  command -v mvn >/dev/null || die "Maven (mvn) is required to fetch the broker jars"
  command -v java >/dev/null || die "Java 17+ is required to run the broker"
  echo "kafka: resolving broker jars from Maven Central (first run only)..."
  mkdir -p "$jars"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$jars" -DincludeScope=runtime >"$cache/mvn.log" 2>&1 \
      || { tail -20 "$cache/mvn.log" >&2; die "mvn dependency:copy-dependencies failed"; }
  touch "$jars/.complete"
}

is_running() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && exec 3>&- 3<&-
}

listener_config() {
  cat <<CONF
listeners=$protocol://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=$protocol://127.0.0.1:$port
listener.security.protocol.map=$protocol:$protocol,CONTROLLER:PLAINTEXT
inter.broker.listener.name=$protocol
CONF
  if [ "$sasl" = scram ]; then
    cat <<CONF
sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.$listener.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="$broker_password";
listener.name.$listener.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="$broker_password" user_broker="$broker_password" user_$sasl_user="$sasl_password";
CONF
  fi
  if [ -n "$tls" ]; then
    cat <<CONF
ssl.keystore.type=PEM
ssl.keystore.location=$tlsdir/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$tlsdir/ca.pem
ssl.endpoint.identification.algorithm=https
CONF
  fi
}

# A CA and a broker certificate for 127.0.0.1 it signs (once): the broker's keystore is PEM, no JKS needed.
make_certificates() {
  [ -f "$tlsdir/broker.pem" ] && return 0
  command -v openssl >/dev/null || die "openssl is required for KAFKA_TLS=1"
  mkdir -p "$tlsdir"
  (
    cd "$tlsdir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=stancewatch local CA" \
      -keyout ca.key -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout broker.key -out broker.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile san.ext \
      -out broker.crt
    openssl pkcs8 -topk8 -nocrypt -in broker.key -out broker.p8
    cat broker.p8 broker.crt >broker.pem
  ) >"$cache/openssl.log" 2>&1 || { cat "$cache/openssl.log" >&2; die "certificate generation failed"; }
}

write_config() {
  cat >"$conf" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
controller.listener.names=CONTROLLER
$(listener_config)
log.dirs=$data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.cleaner.backoff.ms=1000
CONF
}

log4j_conf() {
  cat >"$cache/log4j2.properties" <<CONF
status = error
appender.file.type = File
appender.file.name = file
appender.file.fileName = $log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
logger.raft.name = org.apache.kafka.raft
logger.raft.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = WARN
CONF
}

java_run() {
  java -Xms256m -Xmx"${KAFKA_HEAP:-512m}" -XX:+UseG1GC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$cache/log4j2.properties" -cp "$jars/*" "$@"
}

start() {
  mkdir -p "$cache"
  if is_running; then echo "kafka: already running (pid $(cat "$pidfile")) on 127.0.0.1:$port"; return 0; fi
  if port_open; then die "port $port is taken by another process; set KAFKA_PORT"; fi
  fetch_jars
  if [ -n "$tls" ]; then make_certificates; fi
  write_config
  log4j_conf
  if [ ! -f "$data/meta.properties" ]; then
    mkdir -p "$data"
    local id
    id=$(java_run kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    local scram=()
    if [ "$sasl" = scram ]; then
      scram=(--add-scram "SCRAM-SHA-512=[name=broker,password=$broker_password]"
             --add-scram "SCRAM-SHA-512=[name=$sasl_user,password=$sasl_password]")
    fi
    java_run kafka.tools.StorageTool format -t "$id" -c "$conf" "${scram[@]}" >"$cache/format.log" 2>&1 \
      || { cat "$cache/format.log" >&2; die "storage format failed"; }
  fi
  : >"$log"
  # setsid: the broker must outlive the shell that started it, but not hold its terminal.
  setsid bash -c 'exec "$@"' _ java -Xms256m -Xmx"${KAFKA_HEAP:-512m}" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$cache/log4j2.properties" -cp "$jars/*" kafka.Kafka "$conf" >>"$cache/kafka-$port.stdout" 2>&1 < /dev/null &
  echo $! >"$pidfile"
  local t0=$SECONDS
  until grep -q "Kafka Server started" "$log" 2>/dev/null; do
    if ! is_running; then tail -30 "$cache/kafka-$port.stdout" "$log" >&2 || true; rm -f "$pidfile"; die "broker exited during start-up"; fi
    if (( SECONDS - t0 > 60 )); then die "broker did not start within 60 s (see $log)"; fi
    sleep 0.3
  done
  until port_open; do sleep 0.2; done
  local how=
  [ "$protocol" != PLAINTEXT ] && how=" ($protocol${sasl:+, SCRAM-SHA-512 user $sasl_user}${tls:+, CA $tlsdir/ca.pem})"
  echo "kafka: started on 127.0.0.1:$port$how in $((SECONDS - t0)) s (pid $(cat "$pidfile"))"
}

stop() {
  if ! is_running; then rm -f "$pidfile"; echo "kafka: not running"; return 0; fi
  local pid; pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then echo "kafka: forcing stop"; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$pidfile"
  echo "kafka: stopped"
}

status() {
  if is_running; then echo "kafka: running (pid $(cat "$pidfile")) on 127.0.0.1:$port"; else echo "kafka: stopped"; return 3; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  reset) stop; rm -rf "$data"; echo "kafka: data removed" ;;
  jars) fetch_jars ;;
  *) echo "usage: $0 start|stop|restart|status|reset|jars" >&2; exit 2 ;;
esac
