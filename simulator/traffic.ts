/**
 * The traffic generator: honest users and planned attack instances merged into one stream in
 * event-time order through a priority queue. Memory is one record per user, one descriptor per
 * planned instance, and the follow-ups already scheduled (retries, adjustments); never the taps
 * already produced, so millions of taps stream through bounded memory.
 */
import type { InputRecord } from '../schemas/types.ts';
import { TaplineError } from '../pipeline/errors.ts';
import { Random, deriveSeed } from './random.ts';
import { EventQueue } from './eventQueue.ts';
import { CarrierNat } from './network.ts';
import {
  createHonestUser,
  subscriberDigits,
  accountIdFor,
  deviceIdFor,
  carrierMix,
  type HonestUser,
} from './population.ts';
import { HonestBehaviour, meanSessionLength, honestRates } from './honest.ts';
import { planFraud, type PlannedInstance } from './fraudPlan.ts';
import { startOfNextSeoulMonth, startOfSeoulMonth } from './koreanTime.ts';
import { IdFactory, adjustmentRecord, tapRecord, type FraudLabel, type SimulatedRecord } from './records.ts';
import type { ScenarioContext } from './scenarios/scenario.ts';

const DAY = 86_400_000;

export interface SimulationOptions {
  /** The same seed and options give the same records, byte for byte once formatted. */
  seed: number;
  /** Taps to generate (honest and fraud; adjustments come on top). */
  count: number;
  /** Share of taps that belong to fraud scenarios, 0–1. */
  fraudShare: number;
  /** Event time where traffic starts, epoch ms. */
  start: number;
  /** Event-time span of the taps, in days. */
  days: number;
  /** Honest population; default: about two taps per user per day. */
  users?: number;
}

export const defaultSimulation = {
  seed: 42,
  count: 10_000,
  fraudShare: 0.02,
  /**
   * 2026-03-01T00:00 in Asia/Seoul: fixed, so runs do not depend on the wall clock, and far enough
   * back that the follow-ups (unpaid bills two months on, write-offs up to seven) are not in the
   * future: validators refuse event times more than a day ahead of now.
   */
  start: Date.parse('2026-02-28T15:00:00Z'),
  days: 7,
} as const;

/** Above this many honest taps per user per day, honest users could no longer look honest. */
export const maxTapsPerUserDay = 12;

export function defaultUsers(count: number, days: number): number {
  return Math.max(100, Math.ceil(count / (days * 2)));
}

/** Checks options that a user typed; throws USAGE naming the option. */
export function validateSimulation(o: SimulationOptions): void {
  const fail = (msg: string) => {
    throw new TaplineError('USAGE', msg);
  };
  if (!Number.isSafeInteger(o.seed)) fail(`--seed must be an integer (got ${o.seed}).`);
  if (!Number.isSafeInteger(o.count) || o.count < 1)
    fail(`--count must be a positive integer (got ${o.count}).`);
  if (!(o.fraudShare >= 0 && o.fraudShare <= 1))
    fail(`--fraud must be a share between 0 and 1, e.g. 0.02 (got ${o.fraudShare}).`);
  if (!Number.isFinite(o.start))
    fail('--start must be an ISO-8601 time with a zone, e.g. 2026-11-01T00:00:00+09:00.');
  if (!(o.days > 0 && o.days <= 3660)) fail(`--days must be between 0 and 3660 (got ${o.days}).`);
  const users = o.users ?? defaultUsers(o.count, o.days);
  if (!Number.isSafeInteger(users) || users < 1) fail(`--users must be a positive integer (got ${o.users}).`);
  const perUserDay = (o.count * (1 - o.fraudShare)) / (users * o.days);
  if (perUserDay > maxTapsPerUserDay) {
    fail(
      `${o.count} taps over ${o.days} days is ${perUserDay.toFixed(1)} taps per user per day for ${users} users; ` +
        `honest users stay under ${maxTapsPerUserDay}. Raise --users or --days.`,
    );
  }
}

/**
 * Taps per session relative to the nominal session length: declines end sessions early and daily
 * budgets cut a few. Measured on default runs (see test/simulator/distributions.test.ts, which
 * checks that taps fill the requested --days).
 */
const CALIBRATION = 0.96;

type Pending =
  | { kind: 'user'; user: HonestUser }
  | { kind: 'record'; record: InputRecord; label: FraudLabel | null }
  | { kind: 'fraud'; index: number };

/** Summary facts about a run, known before generation (for progress bars and logs). */
export interface SimulationPlan {
  users: number;
  honestTaps: number;
  fraudTaps: number;
  instances: number;
}

export function planSimulation(options: SimulationOptions): SimulationPlan & { fraud: PlannedInstance[] } {
  validateSimulation(options);
  const users = options.users ?? defaultUsers(options.count, options.days);
  const fraud = planFraud(
    options.seed,
    Math.round(options.count * options.fraudShare),
    options.start,
    options.days * DAY,
  );
  const fraudTaps = fraud.reduce((n, f) => n + f.taps, 0);
  return { users, honestTaps: options.count - fraudTaps, fraudTaps, instances: fraud.length, fraud };
}

/** Generates the run's records in event-time order. Synchronous: the fastest way to fill a file. */
export function* generateTraffic(options: SimulationOptions): Generator<SimulatedRecord> {
  const plan = planSimulation(options);
  const { seed, start, days } = options;
  const runKey = deriveSeed(seed, 0);
  const ids = new IdFactory(runKey);
  // About 40 subscribers per NAT address on average (real carrier NATs hold thousands).
  const nat = new CarrierNat(
    new Random(deriveSeed(seed, 4)),
    Math.min(4096, Math.max(32, Math.ceil(plan.users / 40))),
  );
  const rng = new Random(deriveSeed(seed, 1));
  const behaviour = new HonestBehaviour(rng, ids);
  const spanMs = days * DAY;
  const tapsPerSession =
    CALIBRATION * meanSessionLength * (1 + honestRates.failed * honestRates.retryAfterFailure);
  const queue = new EventQueue<Pending>();

  const popOpts = {
    runKey,
    meanSessionsPerDay: plan.honestTaps / (plan.users * days * tapsPerSession),
    defaulterShare: 0.006,
    defaultMonthFor: (r: Random) => {
      const t = start + r.next() * spanMs;
      return { start: startOfSeoulMonth(t), end: startOfNextSeoulMonth(t) };
    },
  };
  if (plan.honestTaps > 0) {
    const users = Array.from({ length: plan.users }, (_, i) => createHonestUser(i, rng, nat, popOpts));
    // Rescale so this population's total activity is exactly the nominal one: a few very active
    // users in a small population would otherwise finish the taps days early or late.
    const total = users.reduce((n, u) => n + u.sessionsPerDay, 0);
    const scale = (popOpts.meanSessionsPerDay * plan.users) / total;
    for (const user of users) {
      user.sessionsPerDay *= scale;
      const first = behaviour.nextSessionAt(user, start);
      if (first !== null) queue.push(first, { kind: 'user', user });
    }
  }
  if (plan.fraud.length > 0) queue.push(plan.fraud[0]!.start, { kind: 'fraud', index: 0 });

  let fraudIdentities = 0;
  let honestCreated = 0;
  for (let e = queue.pop(); e !== undefined; e = queue.pop()) {
    const pending = e.item;
    if (pending.kind === 'record') {
      yield { record: pending.record, label: pending.label };
    } else if (pending.kind === 'fraud') {
      const instance = plan.fraud[pending.index]!;
      const next = plan.fraud[pending.index + 1];
      if (next) queue.push(next.start, { kind: 'fraud', index: pending.index + 1 });
      const irng = new Random(instance.seed);
      const ctx: ScenarioContext = {
        rng: irng,
        start: instance.start,
        nat,
        tapId: () => ids.tapId(),
        adjustmentId: () => ids.adjustmentId(),
        identity: () => {
          // Fraud identities live after the honest ones in the same bijective number space.
          const index = plan.users + fraudIdentities++;
          return {
            account_id: accountIdFor(index, runKey),
            digits: subscriberDigits(index, runKey),
            carrier: carrierMix.sample(irng),
            device_id: deviceIdFor(irng),
          };
        },
      };
      for (const record of instance.scenario.build(ctx, instance.taps)) {
        const label =
          record.type === 'tap'
            ? { tap_id: record.tap_id, scenario: instance.scenario.name, instance_id: instance.instance_id }
            : null;
        queue.push(record.occurred_at, { kind: 'record', record, label });
      }
    } else {
      if (honestCreated >= plan.honestTaps) continue;
      const user = pending.user;
      const step = behaviour.step(user, e.at, () => honestCreated + 1 < plan.honestTaps);
      for (const f of step.followUps) {
        if (f.kind === 'tap') honestCreated++;
        const record = f.tap ? tapRecord(f.tap) : adjustmentRecord(f.adjustment!);
        queue.push(f.at, { kind: 'record', record, label: null });
      }
      if (step.next !== null) queue.push(step.next, { kind: 'user', user });
      if (step.tap) {
        honestCreated++;
        yield { record: tapRecord(step.tap), label: null };
      }
    }
  }
}

/** The same stream as an async iterable, handing control back to the event loop between batches. */
export async function* simulateTraffic(
  options: SimulationOptions,
  batch = 1000,
): AsyncGenerator<SimulatedRecord> {
  let n = 0;
  for (const r of generateTraffic(options)) {
    yield r;
    if (++n % batch === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
