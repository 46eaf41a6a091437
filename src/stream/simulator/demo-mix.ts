import type { SimKind } from './trace-model.ts';

/**
 * The trace kinds the demos ask the simulator for, cycled over the samples (of every 8: 3 committed failures,
 * 1 persistent failure, 4 correct), so that failures appear; the monitor never sees the kind, only tokens and logprobs.
 * `failmode demo` sends one kind per request, `watch --demo` the whole list for the choices of its one request.
 */
export const DEMO_KIND_MIX: readonly SimKind[] = ['committed', 'correct', 'committed', 'persistent', 'correct', 'committed', 'correct', 'correct'];

/** The simulator seed of both demos (any seed works; with this one the demo model flags a committed failure in each). */
export const DEMO_SEED = 8;
