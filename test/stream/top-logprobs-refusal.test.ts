import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { command as watch } from '../../src/cli/commands/watch.ts';
import { startSimulator } from '../../src/stream/simulator/start-simulator.ts';
import { topLogprobsRefusal } from '../../src/stream/top-logprobs-refusal.ts';

describe('top_logprobs negotiation', () => {
  it('recognises vLLM\'s, OpenAI\'s and the simulator\'s refusals and names the limit', () => {
    const vllm = topLogprobsRefusal('Requested sample logprobs of 200, which is greater than max allowed: 20', 200, 'the model file m.json');
    assert.equal(vllm, 'the engine refuses top_logprobs 200 (it allows at most 20), which the model file m.json asks for: start the engine with a higher limit (vLLM: --max-logprobs 200), or use a top-20 model such as results/models/general-topk20.json');
    assert.match(topLogprobsRefusal("Invalid 'top_logprobs': integer above maximum value. Expected a value <= 20, but got 200 instead.", 200, 'x')!, /at most 20\)/);
    assert.match(topLogprobsRefusal('Expected `top_logprobs` to be an integer from 0 to 50, got `200` (number)', 200, 'x')!, /at most 50\)/);
    assert.equal(topLogprobsRefusal('model not found', 200, 'x'), null);
    assert.equal(topLogprobsRefusal('Expected `top_logprobs` to be an integer from 0 to 200, got `-1` (number)', 20, 'x'), null);
  });

  it('watch against an engine that allows 20: one line naming the model file\'s k, the limit and the ways out; exit code 1', async () => {
    const sim = await startSimulator({ port: 0, maxTopLogprobs: 20 });
    const write = process.stderr.write;
    let err = '';
    process.stderr.write = ((c: string) => { err += c; return true; }) as typeof process.stderr.write;
    try {
      const code = await watch.run(['--base-url', sim.url, '--model', 'sim', '--prompt', 'x', '--model-file', 'results/models/math500_qwen3.5-9b.json', '--no-tui', '--jsonl', '/dev/null']);
      assert.equal(code, 1);
    } finally {
      process.stderr.write = write;
      await sim.close();
    }
    const line = err.split('\n').find((l) => l.startsWith('failmode watch: ') && l.includes('refuses'));
    assert.ok(line, err);
    assert.match(line, /refuses top_logprobs 200 \(it allows at most 20\), which the model file results\/models\/math500_qwen3\.5-9b\.json asks for: .*--max-logprobs 200.*general-topk20/);
  });
});
