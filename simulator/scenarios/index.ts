/** The fraud scenarios the simulator knows, one file each. */
import type { Scenario } from './scenario.ts';
import { cardTesting } from './cardTesting.ts';
import { deviceFarm } from './deviceFarm.ts';
import { accountTakeover } from './accountTakeover.ts';
import { monthlyCap } from './monthlyCap.ts';
import { stolenMsisdn } from './stolenMsisdn.ts';
import { smallTapBurst } from './smallTapBurst.ts';

export const scenarios: readonly Scenario[] = [
  cardTesting,
  deviceFarm,
  accountTakeover,
  monthlyCap,
  stolenMsisdn,
  smallTapBurst,
];
