/**
 * The codec a process should use, chosen by configuration: the bundled catalog by default, or the
 * schema registry named by SCHEMA_REGISTRY_URL (registering the current schemas at start).
 */
import type { Config } from '../pipeline/config.ts';
import { createCodec, type EventCodec } from './codec.ts';
import { createRegistryCatalog, topicSubjects } from './registry.ts';

export async function codecForConfig(config: Config, now?: () => number): Promise<EventCodec> {
  const url = config.schemaRegistry.url;
  if (!url) return createCodec(now ? { now } : {});
  const catalog = await createRegistryCatalog({ url, subjects: topicSubjects(config.kafka.topics) });
  return createCodec(now ? { catalog, now } : { catalog });
}
