/**
 * `tapline simulate`: realistic labelled traffic to a JSON Lines file (--output) or to Kafka.
 * Options come from pipeline/cli.ts; this file turns them into SimulationOptions, fails with USAGE
 * naming the option when one is wrong, and reports what it wrote on stderr.
 */
import type { CliContext } from '../cliContext.ts';
import { TaplineError } from '../errors.ts';
import { parseIsoTimestamp } from '../../schemas/timestamps.ts';
import {
  defaultSimulation,
  generateTraffic,
  planSimulation,
  type SimulationOptions,
} from '../../simulator/traffic.ts';
import { writeTrafficFiles } from '../../simulator/fileOutput.ts';

const defaultRate = 1000;

function numberOption(options: Record<string, unknown>, name: string, integer: boolean): number | undefined {
  const raw = options[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw === '' || !Number.isFinite(value) || (integer && !Number.isSafeInteger(value))) {
    throw new TaplineError(
      'USAGE',
      `--${name} must be ${integer ? 'an integer' : 'a number'} (got ${JSON.stringify(raw)}).`,
    );
  }
  return value;
}

export interface SimulateCommandOptions {
  simulation: SimulationOptions;
  output?: string;
  labels?: string;
  /** Target taps per second when sending to Kafka. */
  rate: number;
}

/** Parses the command's options; throws USAGE. */
export function parseSimulateOptions(options: Record<string, unknown>): SimulateCommandOptions {
  const rate = numberOption(options, 'rate', false);
  const duration = numberOption(options, 'duration', false);
  let count = numberOption(options, 'count', true);
  if (rate !== undefined && !(rate > 0))
    throw new TaplineError('USAGE', `--rate must be positive (got ${rate}).`);
  if (duration !== undefined && !(duration > 0))
    throw new TaplineError('USAGE', `--duration must be positive (got ${duration}).`);
  if (count === undefined && duration !== undefined) count = Math.round(duration * (rate ?? defaultRate));
  let start: number = defaultSimulation.start;
  if (options['start'] !== undefined) {
    const parsed = parseIsoTimestamp(String(options['start']));
    if (!parsed.ok) throw new TaplineError('USAGE', `--start: ${parsed.why}`);
    start = parsed.ms;
  }
  const users = numberOption(options, 'users', true);
  const simulation: SimulationOptions = {
    seed: numberOption(options, 'seed', true) ?? defaultSimulation.seed,
    count: count ?? defaultSimulation.count,
    fraudShare: numberOption(options, 'fraud', false) ?? defaultSimulation.fraudShare,
    start,
    days: numberOption(options, 'days', false) ?? defaultSimulation.days,
    ...(users === undefined ? {} : { users }),
  };
  planSimulation(simulation); // validates, with messages naming the options
  const out: SimulateCommandOptions = { simulation, rate: rate ?? defaultRate };
  if (options['output'] !== undefined) out.output = String(options['output']);
  if (options['labels'] !== undefined) out.labels = String(options['labels']);
  return out;
}

export async function run(
  options: Record<string, unknown>,
  _args: string[],
  ctx: CliContext,
): Promise<number> {
  const parsed = parseSimulateOptions(options);
  if (parsed.output === undefined) {
    const { sendTrafficToKafka } = await import('../../simulator/kafkaOutput.ts');
    return sendTrafficToKafka(parsed, ctx);
  }
  const counts = await writeTrafficFiles(generateTraffic(parsed.simulation), parsed.output, parsed.labels);
  ctx.stderr.write(
    `tapline simulate: wrote ${counts.taps} taps (${counts.fraudTaps} in fraud scenarios) and ` +
      `${counts.adjustments} adjustments to ${parsed.output}` +
      (parsed.labels ? `, labels to ${parsed.labels}` : '') +
      ` (seed ${parsed.simulation.seed}).\n`,
  );
  return 0;
}
