import type { CliContext } from '../cliContext.ts';
import { TaplineError } from '../errors.ts';

export async function run(
  _options: Record<string, unknown>,
  _args: string[],
  _ctx: CliContext,
): Promise<number> {
  throw new TaplineError('NOT_IMPLEMENTED', 'tapline settle is not implemented yet (see the open issues).');
}
