import type { ParsedRequest, SimApi } from './sim-request.ts';

/** One generated token as SamplePlan.step leaves it: its text and (k ≥ 0) its chat logprobs entry JSON. */
export interface SimToken {
  text: string;
  json: string;
}

/**
 * How a simulated stream is written, per API. Every method returns the SSE text to send (possibly empty). The chat
 * format keeps the simulator's original bytes; the other two rebuild the entry from its chat JSON.
 */
export interface SimStreamFormat {
  /** Before the first token of choice `i`. */
  open(i: number): string;
  token(i: number, tok: SimToken): string;
  finish(i: number, reason: string): string;
  /** After every choice finished: usage (when asked for / always for responses) and the end marker. */
  close(produced: number): string;
}

/** The writer for `api` (one per response; it keeps per-choice offsets and sequence numbers). */
export function simStreamFormat(api: SimApi, id: string, created: number, r: ParsedRequest): SimStreamFormat {
  const k = r.logprobs ? r.topLogprobs : -1;
  const model = JSON.stringify(r.model);
  switch (api) {
    case 'chat': {
      const head = `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${model},"choices":[{"index":`;
      return {
        open: (i) => `data: ${head}${i},"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n`,
        token: (i, t) => `data: ${head}${i},"delta":{"content":${JSON.stringify(t.text)}},"logprobs":${k < 0 ? 'null' : `{"content":[${t.json}]}`},"finish_reason":null}]}\n\n`,
        finish: (i, reason) => `data: ${head}${i},"delta":{},"logprobs":null,"finish_reason":"${reason}"}]}\n\n`,
        close: (produced) => `${r.includeUsage ? `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${model},"choices":[],"usage":${usageJson(r.promptTokens, produced)}}\n\n` : ''}data: [DONE]\n\n`,
      };
    }
    case 'completions': {
      const head = `{"id":"${id}","object":"text_completion","created":${created},"model":${model},"choices":[{"index":`;
      const offsets: number[] = [];
      return {
        open: () => '',
        token: (i, t) => {
          const offset = offsets[i] ?? 0;
          offsets[i] = offset + t.text.length;
          let lp = 'null';
          if (k >= 0) {
            const e = JSON.parse(t.json) as ChatEntry;
            const top: Record<string, number> = {};
            for (const a of e.top_logprobs) if (!(a.token in top)) top[a.token] = a.logprob;
            lp = `{"tokens":[${JSON.stringify(e.token)}],"token_logprobs":[${e.logprob}],"top_logprobs":[${JSON.stringify(top)}],"text_offset":[${offset}]}`;
          }
          return `data: ${head}${i},"text":${JSON.stringify(t.text)},"logprobs":${lp},"finish_reason":null}]}\n\n`;
        },
        finish: (i, reason) => `data: ${head}${i},"text":"","logprobs":null,"finish_reason":"${reason}"}]}\n\n`,
        close: (produced) => `${r.includeUsage ? `data: {"id":"${id}","object":"text_completion","created":${created},"model":${model},"choices":[],"usage":${usageJson(r.promptTokens, produced)}}\n\n` : ''}data: [DONE]\n\n`,
      };
    }
    case 'responses': {
      let seq = 0;
      let finishReason = 'stop';
      const event = (type: string, body: string): string => `event: ${type}\ndata: {"type":"${type}",${body},"sequence_number":${seq++}}\n\n`;
      const response = (status: string, extra = ''): string => `"response":{"id":"resp_${id}","object":"response","created_at":${created},"model":${model},"status":"${status}","output":[]${extra}}`;
      const item = `"item_id":"msg_${id}","output_index":0,"content_index":0`;
      return {
        open: () => event('response.created', response('in_progress'))
          + event('response.output_item.added', `"output_index":0,"item":{"id":"msg_${id}","type":"message","role":"assistant","status":"in_progress","content":[]}`),
        token: (_i, t) => {
          let lp = '[]';
          if (k >= 0) {
            const e = JSON.parse(t.json) as ChatEntry;
            lp = JSON.stringify([{ token: e.token, logprob: e.logprob, top_logprobs: e.top_logprobs.map((a) => ({ token: a.token, logprob: a.logprob })) }]);
          }
          return event('response.output_text.delta', `${item},"delta":${JSON.stringify(t.text)},"logprobs":${lp}`);
        },
        finish: (_i, reason) => {
          finishReason = reason;
          return '';
        },
        close: (produced) => {
          const usage = `,"usage":{"input_tokens":${r.promptTokens},"output_tokens":${produced},"total_tokens":${r.promptTokens + produced}}`;
          return finishReason === 'length'
            ? event('response.incomplete', response('incomplete', `,"incomplete_details":{"reason":"max_output_tokens"}${usage}`))
            : event('response.completed', response('completed', usage));
        },
      };
    }
  }
}

interface ChatEntry {
  token: string;
  logprob: number;
  top_logprobs: { token: string; logprob: number }[];
}

export function usageJson(prompt: number, completion: number): string {
  return `{"prompt_tokens":${prompt},"completion_tokens":${completion},"total_tokens":${prompt + completion}}`;
}
