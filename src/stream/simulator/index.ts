/** The simulated OpenAI-compatible server: see start-simulator.ts and docs/simulator.md. */
export { startSimulator, type Simulator, type SimulatorOptions, type SimulatorStats } from './start-simulator.ts';
export { SIM_KINDS, type SimKind } from './trace-model.ts';
export type { SimProfile } from './trace-text.ts';
export type { SimOverrides } from './sample-plan.ts';
