import type { Channel } from './token-event.ts';

/**
 * Which channel each logprob entry of one chunk belongs to, read from its text. SGLang with a reasoning parser sends
 * one chunk whose delta holds BOTH `reasoning_content` and `content` while `logprobs.content` lists every token of
 * the chunk: field names cannot tell them apart, the texts can. Tokens are matched in order against the reasoning
 * text, then the content text (reasoning precedes content in a chunk). A token found in neither (a special token
 * such as `</think>`, which the parser strips, or a byte fragment of a split character) goes to content once content
 * has begun, else to reasoning while reasoning text is left, else to content.
 *
 * One cursor per chunk; `next` is O(token length) and allocates nothing.
 */
export class TokenChannelCursor {
  private r = 0;
  private c = 0;

  constructor(private readonly reasoning: string, private readonly content: string) {}

  next(token: string): Channel {
    if (token !== '') {
      if (this.c === 0 && this.r < this.reasoning.length && this.reasoning.startsWith(token, this.r)) {
        this.r += token.length;
        return 'reasoning';
      }
      if (this.c < this.content.length && this.content.startsWith(token, this.c)) {
        this.c += token.length;
        return 'content';
      }
    }
    if (this.c > 0) return 'content';
    return this.r < this.reasoning.length ? 'reasoning' : 'content';
  }
}
