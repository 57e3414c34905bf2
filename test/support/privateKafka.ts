/**
 * A PRIVATE single-node KRaft broker for fault and TLS tests: its own free ports, its own data dir in a
 * temp dir (formatted once), the jars scripts/services.sh already cached under .cache/kafka. The shared
 * broker on 9092 serves every other test and is never touched. The caller stops it in its teardown.
 *
 * Configured like scripts/services/kafka.sh (single node, small internal topics, no initial rebalance
 * delay), plus an optional SASL_SSL listener with SCRAM users for the TLS tests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './freePort.ts';

const root = resolve(import.meta.dirname, '../..');
const kafkaVersion = process.env['KAFKA_VERSION'] ?? '3.9.1';
const libs = join(root, '.cache', 'kafka', kafkaVersion, 'libs');

export interface PrivateKafkaTls {
  /** PKCS12 keystore with the broker's key and certificate. */
  keystore: string;
  /** PKCS12 truststore (only needed when clients present certificates). */
  truststore?: string;
  password: string;
  /** `required` asks clients for a certificate signed by the truststore's CA. @default none */
  clientAuth?: 'none' | 'required';
}

export interface PrivateKafkaOptions {
  /** Adds a SASL_SSL listener (SCRAM-SHA-256/512) with this TLS material. */
  tls?: PrivateKafkaTls;
  /** SCRAM users created at format time (for the SASL_SSL listener). */
  scram?: { user: string; password: string };
  /** Name in the temp dir and the log, for a person reading leftovers. */
  name?: string;
  /**
   * Adds a SASL_PLAINTEXT listener (SCRAM, the `scram` user) behind the KRaft authorizer: its clients
   * need ACLs. The PLAINTEXT listener's clients (ANONYMOUS) stay super users, for the test's own admin.
   */
  authorizer?: boolean;
}

export interface PrivateKafka {
  /** host:port of the PLAINTEXT listener. */
  broker: string;
  /** host:port of the SASL_SSL listener, when `tls` was given. */
  tlsBroker: string | null;
  /** host:port of the SASL_PLAINTEXT listener with ACLs, when `authorizer` was set. */
  aclBroker: string | null;
  dir: string;
  /** Starts the broker on its dirs (formatted on first start) and waits until it runs transactions. */
  start(): Promise<void>;
  /** Stops the broker with SIGTERM (controlled shutdown) or SIGKILL (a crash); resolves on exit. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** SIGSTOP: the broker freezes with its connections open; requests wait unanswered. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Stops it and removes its dirs. */
  destroy(): Promise<void>;
  /** The broker's own log, for failure messages. */
  log: string;
}

/** A KRaft cluster id: 16 random bytes, base64url without padding, not starting with '-'. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function java(logFile: string, args: string[]): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    return spawn(
      'java',
      ['-Xmx384m', '-Xms128m', '-XX:+UseG1GC', '-Djava.awt.headless=true', '-cp', `${libs}/*`, ...args],
      { stdio: ['ignore', fd, fd] },
    );
  } finally {
    closeSync(fd);
  }
}

export async function createPrivateKafka(options: PrivateKafkaOptions = {}): Promise<PrivateKafka> {
  if (!existsSync(join(libs, '.complete')))
    throw new Error(
      `Kafka jars missing under ${libs}: run 'bash scripts/services.sh up kafka' once to fetch them`,
    );
  const dir = mkdtempSync(join(tmpdir(), `tapline-kafka-${options.name ?? 'private'}-`));
  const [port, controllerPort, tlsPort, aclPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const dataDir = join(dir, 'data');
  const conf = join(dir, 'server.properties');
  const log = join(dir, 'server.log');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(
    join(dir, 'log4j.properties'),
    [
      'log4j.rootLogger=INFO, file',
      'log4j.appender.file=org.apache.log4j.FileAppender',
      `log4j.appender.file.File=${log}`,
      'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.kafka.request.logger=WARN',
      'log4j.logger.state.change.logger=WARN',
      '',
    ].join('\n'),
  );
  const tls = options.tls;
  const listeners = [`PLAINTEXT://127.0.0.1:${port}`, `CONTROLLER://127.0.0.1:${controllerPort}`];
  const advertised = [`PLAINTEXT://127.0.0.1:${port}`];
  if (tls) {
    listeners.push(`SASL_SSL://127.0.0.1:${tlsPort}`);
    advertised.push(`SASL_SSL://127.0.0.1:${tlsPort}`);
  }
  if (options.authorizer) {
    listeners.push(`SASL_PLAINTEXT://127.0.0.1:${aclPort}`);
    advertised.push(`SASL_PLAINTEXT://127.0.0.1:${aclPort}`);
  }
  const lines = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=${listeners.join(',')}`,
    `advertised.listeners=${advertised.join(',')}`,
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SASL_PLAINTEXT:SASL_PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.num.partitions=4',
    'auto.create.topics.enable=true',
    // After a SIGKILL the controller keeps the dead broker's registration until its session times
    // out (9 s by default) and refuses the restarted one meanwhile; shorter here to keep tests lean.
    'broker.heartbeat.interval.ms=500',
    'broker.session.timeout.ms=2500',
  ];
  if (options.authorizer) {
    lines.push(
      'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      // The controller, the inter-broker listener and the test's admin connect as ANONYMOUS.
      'super.users=User:ANONYMOUS',
    );
  }
  if (tls || options.authorizer) lines.push('sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512');
  if (tls) {
    lines.push(
      'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'ssl.keystore.type=PKCS12',
      `ssl.keystore.location=${tls.keystore}`,
      `ssl.keystore.password=${tls.password}`,
      `ssl.key.password=${tls.password}`,
      // Only the listener-prefixed form applies to a SASL_SSL listener (KIP-684).
      `listener.name.sasl_ssl.ssl.client.auth=${tls.clientAuth ?? 'none'}`,
    );
    if (tls.truststore)
      lines.push(
        'ssl.truststore.type=PKCS12',
        `ssl.truststore.location=${tls.truststore}`,
        `ssl.truststore.password=${tls.password}`,
      );
  }
  writeFileSync(conf, `${lines.join('\n')}\n`);

  let child: ChildProcess | null = null;
  const running = () => child !== null && child.exitCode === null && child.signalCode === null;
  let exited: Promise<void> = Promise.resolve();
  const jvmLog = join(dir, 'stdout.log');

  function format(): void {
    if (existsSync(join(dataDir, 'meta.properties'))) return;
    const scram = options.scram
      ? ['256', '512'].flatMap((bits) => [
          '--add-scram',
          `SCRAM-SHA-${bits}=[name=${options.scram!.user},password=${options.scram!.password}]`,
        ])
      : [];
    const result = spawnSync(
      'java',
      [
        '-Xmx256m',
        '-cp',
        `${libs}/*`,
        `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId(),
        '-c',
        conf,
        ...scram,
      ],
      { encoding: 'utf8' },
    );
    if (result.status !== 0)
      throw new Error(`formatting the private broker failed: ${result.stderr || result.stdout}`);
  }

  async function waitReady(timeoutMs: number): Promise<void> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      if (!running()) throw new Error(`private Kafka exited during start-up; read ${log}`);
      // wait-kafka also runs the first transaction, so the coordinators are loaded before the test.
      const probe = spawn(process.execPath, [
        join(root, 'scripts', 'wait-kafka.ts'),
        `127.0.0.1:${port}`,
        '5000',
      ]);
      const code = await new Promise<number | null>((r) => probe.once('exit', r));
      if (code === 0) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`private Kafka on 127.0.0.1:${port} not ready within ${timeoutMs} ms; read ${log}`);
  }

  const broker: PrivateKafka = {
    broker: `127.0.0.1:${port}`,
    tlsBroker: tls ? `127.0.0.1:${tlsPort}` : null,
    aclBroker: options.authorizer ? `127.0.0.1:${aclPort}` : null,
    dir,
    log,
    async start() {
      if (running()) return;
      format();
      const proc = java(jvmLog, [
        `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`,
        'kafka.Kafka',
        conf,
      ]);
      child = proc;
      exited = new Promise((r) => proc.once('exit', () => r()));
      await waitReady(90_000);
    },
    async stop(signal = 'SIGTERM') {
      const proc = child;
      if (!proc || !running()) return;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
    pause() {
      if (running()) child!.kill('SIGSTOP');
    },
    resume() {
      if (running()) child!.kill('SIGCONT');
    },
    async destroy() {
      await broker.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return broker;
}
