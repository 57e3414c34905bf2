/**
 * The IANA zone rules js-joda needs for Asia/Seoul (settlement periods, the monthly cap, the
 * simulator's Korean day), imported for its side effect. The 1970-2030 build of @js-joda/timezone,
 * not the full one: the full tz history cost the worker ~21 MB of RSS at start-up (93 against 72 MB
 * for js-joda alone, Node 24; docs/BENCHMARKS.md), and this range keeps Seoul's 1987-88 summer time.
 * Past 2030 a zone keeps its last offset (Seoul: +09:00 since 1988).
 */
import '@js-joda/timezone/dist/js-joda-timezone-1970-2030.js';
