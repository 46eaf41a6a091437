import type { SimulatorStats } from './start-simulator.ts';

/**
 * The simulator's `GET /metrics`: Prometheus text exposition with vLLM's metric names, so what reads a vLLM server's
 * metrics (failmode's abort check) reads the simulator's the same way. Zombie generations count as running.
 */
export function simMetricsText(s: Readonly<SimulatorStats>, model: string): string {
  const label = `{model_name="${model}"}`;
  const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number): string =>
    `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name}${label} ${value.toFixed(1)}\n`;
  return metric('vllm:num_requests_running', 'gauge', 'Number of requests in model execution batches.', s.active)
    + metric('vllm:num_requests_waiting', 'gauge', 'Number of requests waiting to be processed.', 0)
    + metric('vllm:generation_tokens_total', 'counter', 'Number of generation tokens processed.', s.tokensGenerated)
    + metric('vllm:request_success_total', 'counter', 'Count of successfully processed requests.', s.completed);
}
