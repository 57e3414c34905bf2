/**
 * `tapline`: the command line. Each subcommand lives in pipeline/commands/<name>.ts and is loaded
 * only when used, so a command never pays for libraries (chDB, kafkajs) it does not need.
 * Exit status: 0 success, 2 bad usage or configuration, 1 anything else.
 */
import { Command, CommanderError } from 'commander';
import { TaplineError, describeError } from './errors.ts';
import { createCliContext, type CliContext } from './cliContext.ts';

export interface CommandModule {
  /** Runs the command; resolves to the exit status. */
  run(options: Record<string, unknown>, args: string[], ctx: CliContext): Promise<number>;
}

interface CommandSpec {
  name: string;
  summary: string;
  args?: string;
  options?: Array<[flags: string, description: string, defaultValue?: string]>;
  load: () => Promise<CommandModule>;
}

const commands: CommandSpec[] = [
  {
    name: 'demo',
    summary: 'the main job end to end: simulated traffic → workers → sink → ClickHouse → settlement → report',
    options: [
      ['--minutes <n>', 'minutes of simulated traffic', '1'],
      ['--rate <n>', 'taps per second of simulated traffic', '300'],
      ['--seed <n>', 'simulation seed', '42'],
      ['--report <file>', 'HTML report path', 'reports/demo.html'],
      ['--no-services', 'do not start local services (they must already run)'],
    ],
    load: () => import('./commands/demo.ts'),
  },
  {
    name: 'run',
    summary: 'a pipeline worker (Kafka → detectors with Redis → Kafka) until SIGTERM, then drain and commit',
    load: () => import('./commands/run.ts'),
  },
  {
    name: 'sink',
    summary: 'the ClickHouse writer (Kafka → ClickHouse, batched and deduplicated)',
    load: () => import('./commands/sink.ts'),
  },
  {
    name: 'simulate',
    summary: 'realistic labelled traffic to Kafka or to a JSON Lines file',
    options: [
      ['--output <file>', 'JSON Lines file to write (default: Kafka)'],
      ['--labels <file>', 'side file of fraud labels keyed by tap_id'],
      ['--count <n>', 'number of taps'],
      ['--duration <seconds>', 'seconds of traffic at --rate (Kafka)'],
      ['--rate <n>', 'taps per second (Kafka)'],
      ['--users <n>', 'honest population size'],
      ['--fraud <share>', 'share of taps belonging to fraud scenarios, e.g. 0.02'],
      ['--start <iso>', 'event time of the first tap'],
      ['--days <n>', 'event-time span in days'],
      ['--seed <n>', 'random seed; the same seed gives the same bytes'],
    ],
    load: () => import('./commands/simulate.ts'),
  },
  {
    name: 'backtest',
    summary: 'the detectors over a JSON Lines file with in-memory state; one decision line per tap',
    options: [
      ['--input <file>', 'JSON Lines file of taps and adjustments (required)'],
      ['--rules <file>', 'rules file (JSON or YAML); default: the built-in rules'],
      ['--output <file>', 'decisions output (default: stdout)'],
      ['--rejects <file>', 'rejected lines with line number and reason (default: stderr summary only)'],
    ],
    load: () => import('./commands/backtest.ts'),
  },
  {
    name: 'settle',
    summary: 'monthly settlement from ClickHouse, or offline from a JSON Lines file',
    options: [
      ['--period <yyyy-mm>', 'calendar month in Asia/Seoul (required)'],
      ['--input <file>', 'JSON Lines file of taps and adjustments (offline mode)'],
      ['--contracts <file>', 'contracts file (JSON)'],
      ['--opening <file>', 'previous statement whose carried-forward balances are carried in'],
      ['--output <file>', 'statement JSON (default: stdout)'],
      ['--csv-dir <dir>', 'also write one CSV per party type there'],
      ['--rejects <file>', 'rejected adjustments with reasons'],
      ['--close', 'close the period (immutable afterwards)'],
    ],
    load: () => import('./commands/settle.ts'),
  },
  {
    name: 'migrate',
    summary: 'create or upgrade the ClickHouse schema',
    load: () => import('./commands/migrate.ts'),
  },
  {
    name: 'query',
    summary: 'run SQL on the configured ClickHouse and print a table',
    args: '<sql>',
    options: [['--format <format>', 'table, json or csv', 'table']],
    load: () => import('./commands/query.ts'),
  },
];

function buildProgram(ctx: CliContext, setExit: (code: number) => void): Command {
  const program = new Command('tapline')
    .description('Fraud decisions and exact settlement for carrier-billing micropayments')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    })
    .showHelpAfterError('(run tapline --help for usage)');
  for (const spec of commands) {
    const cmd = program
      .command(spec.args ? `${spec.name} ${spec.args}` : spec.name)
      .description(spec.summary);
    for (const [flags, description, defaultValue] of spec.options ?? []) {
      if (defaultValue === undefined) cmd.option(flags, description);
      else cmd.option(flags, description, defaultValue);
    }
    cmd.action(async (...params: unknown[]) => {
      const command = params[params.length - 1] as Command;
      const module = await spec.load();
      setExit(await module.run(command.opts(), command.args, ctx));
    });
  }
  return program;
}

/** Runs the CLI with the given arguments (without `node tapline`); resolves to the exit status. */
export async function main(argv: string[], ctx: CliContext = createCliContext()): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(ctx, (code) => {
    exitCode = code;
  });
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return 2;
    }
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof TaplineError) {
      ctx.stderr.write(`tapline: ${e.message}\n`);
      if (e.cause !== undefined && ctx.env['TAPLINE_DEBUG']) ctx.stderr.write(`${String(e.cause)}\n`);
      return e.exitCode;
    }
    ctx.stderr.write(`tapline: unexpected error: ${describeError(e)}\n`);
    if (ctx.env['TAPLINE_DEBUG'] && e instanceof Error) ctx.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

// Run directly (`node pipeline/cli.ts ...`): npm scripts use this path.
if (import.meta.url === `file://${process.argv[1]}`) {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24) {
    process.stderr.write(
      `tapline needs Node.js 24 or newer; this is ${process.version}. Use npm run / npx.\n`,
    );
    process.exitCode = 2;
  } else {
    process.exitCode = await main(process.argv.slice(2));
  }
}
