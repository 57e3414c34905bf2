import type { CliContext } from '../pipeline/cliContext.ts';
import type { SimulateCommandOptions } from '../pipeline/commands/simulate.ts';
import { TaplineError } from '../pipeline/errors.ts';

export async function sendTrafficToKafka(
  _options: SimulateCommandOptions,
  _ctx: CliContext,
): Promise<number> {
  throw new TaplineError('NOT_IMPLEMENTED', 'tapline simulate to Kafka is not ready yet; use --output FILE.');
}
