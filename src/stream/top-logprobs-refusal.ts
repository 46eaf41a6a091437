/**
 * Recognises an engine's refusal of the requested number of alternatives per token and says, in one line, what
 * asked for how many, what the engine allows and the two ways out. Most shipped models need top-k 200; a stock vLLM
 * allows 20 (`--max-logprobs`), OpenAI 20.
 *
 * Recognised: vLLM ("Requested sample logprobs of 200, which is greater than max allowed: 20"), OpenAI ("Invalid
 * 'top_logprobs': … Expected a value <= 20, but got 200"), the simulator ("Expected `top_logprobs` to be an integer
 * from 0 to 200"), and any other 4xx message naming logprobs with the k in it.
 *
 * @param message the engine's error message (HTTP 4xx)
 * @param k the top-k requested
 * @param askedBy who asked for k, e.g. "model file gpqa.json" or "--top-k"
 * @return the one-line explanation, or null when the message is not such a refusal
 */
export function topLogprobsRefusal(message: string, k: number, askedBy: string): string | null {
  if (!/logprob/i.test(message)) return null;
  const limit = /max(?:imum)?(?: allowed| value)?\D{0,12}?(\d+)/i.exec(message)?.[1]
    ?? /<=\s*(\d+)/.exec(message)?.[1]
    ?? /from 0 to (\d+)/.exec(message)?.[1]
    ?? null;
  if (limit !== null) {
    if (Number(limit) >= k) return null; // the limit is not what was exceeded
  } else if (!/max|greater than|exceed|too (many|large)/i.test(message)) return null;
  return `the engine refuses top_logprobs ${k}${limit !== null ? ` (it allows at most ${limit})` : ''}, which ${askedBy} asks for: `
    + `start the engine with a higher limit (vLLM: --max-logprobs ${k}), or use a top-20 model such as results/models/general-topk20.json`;
}
