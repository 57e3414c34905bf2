import { createMemoryStore } from '../../operators/memoryStore.ts';
import { conformanceSuite } from './conformance.ts';

conformanceSuite('memory store', () => createMemoryStore());
