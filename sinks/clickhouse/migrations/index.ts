/** Every migration Tapline knows, in version order. Append new ones; never edit an applied one. */
import { eventTables } from './001_event_tables.ts';
import { settlementTables } from './002_settlement_tables.ts';
import { analystViews } from './003_analyst_views.ts';
import { settledAdjustments } from './004_settled_adjustments.ts';
import type { Migration } from './types.ts';

export type { Migration, MigrationContext } from './types.ts';

export const migrations: readonly Migration[] = [
  eventTables,
  settlementTables,
  analystViews,
  settledAdjustments,
];
