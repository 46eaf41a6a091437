import type { Calibration } from './calibration.ts';
import { hashString, mixSeed, Rng } from './rng.ts';
import { drawToken, SIM_VOCAB, type TokenDraw, type TokenShape } from './token-model.ts';
import { TraceModel, sampleLength, type SimKind } from './trace-model.ts';
import { TraceText, WORD_BYTES_JSON, WORD_COUNT, WORD_JSON, bytesJson, type SimProfile } from './trace-text.ts';

/** What a test may force per request (body `failmode_sim` or header `x-failmode-sim-profile`). */
export interface SimOverrides {
  profile?: SimProfile;
  kind?: SimKind;
  /** Per-choice kinds, cycled over the request's choices (choice i gets `kinds[i % length]`); `kind` wins over it. */
  kinds?: readonly SimKind[];
  /** The answer every sample gives (overrides correct/failure choice of answer). */
  answer?: string;
  /** The reference (correct) answer; default a deterministic per-prompt answer. */
  reference?: string;
  /** Trace length in tokens (final line included); default drawn from the calibrated length distribution. */
  length?: number;
}

/** One choice of one request: its kind, answer, text and uncertainty process, generated token by token. */
export class SamplePlan {
  readonly kind: SimKind;
  readonly profile: SimProfile;
  readonly answer: string;
  readonly reference: string;
  /** Tokens this sample will produce (capped by max_tokens). */
  readonly length: number;
  readonly finishReason: 'stop' | 'length';
  next = 0;
  private readonly rng: Rng;
  private readonly model: TraceModel;
  private readonly text: TraceText;
  private readonly shape: TokenShape;
  private readonly lp = new Float64Array(SIM_VOCAB);
  private readonly draw: TokenDraw = { chosenRank: 0, chosenLogprob: 0 };

  constructor(cal: Calibration, seed: number, prompt: string, choice: number, requestKey: number, profile: SimProfile, o: SimOverrides, maxTokens: number) {
    this.rng = new Rng(mixSeed(seed, hashString(prompt), choice, requestKey));
    const rng = this.rng;
    const cp = profile === 'final-answer' ? cal.profiles.mc : cal.profiles.math;
    const drawnKind: SimKind = rng.next() < cp.accuracy ? 'correct' : rng.next() < 0.5 ? 'committed' : 'persistent';
    this.kind = o.kind ?? (o.kinds !== undefined && o.kinds.length > 0 ? o.kinds[choice % o.kinds.length]! : drawnKind);
    this.profile = profile;
    this.reference = o.reference ?? defaultReference(profile, prompt);
    const wrong = wrongAnswer(profile, this.reference, rng);
    this.answer = o.answer ?? (this.kind === 'correct' ? this.reference : wrong);
    const drawnLength = sampleLength(this.kind === 'correct' ? cp.correct : cp.failure, rng);
    this.text = new TraceText(profile, this.answer, o.length ?? drawnLength, rng);
    this.length = Math.min(this.text.length, maxTokens);
    this.finishReason = this.text.length > maxTokens ? 'length' : 'stop';
    this.model = new TraceModel(cal, cp, this.kind, this.text.length, rng);
    this.shape = cp.shape;
  }

  get done(): boolean {
    return this.next >= this.length;
  }

  /**
   * Generates the next token. Returns its JSON-quoted text; when `k` ≥ 0 also the `logprobs.content` entry JSON
   * (`{"token":…,"logprob":…,"top_logprobs":[k alternatives]}`) in `entry.json`.
   */
  step(k: number, entry: { json: string; text: string }): void {
    const t = this.next++;
    const rng = this.rng;
    const text = this.text.token(t, rng);
    const quoted = JSON.stringify(text);
    entry.text = text;
    const base = rng.int(WORD_COUNT); // drawn whatever k is, so text and choices never depend on top_logprobs
    if (k < 0) {
      // No logprobs asked: still advance the random stream the same way, so text does not depend on logprobs.
      drawToken(this.model.tau(t, rng), this.shape, rng, 0, this.lp, this.draw);
      entry.json = quoted;
      return;
    }
    drawToken(this.model.tau(t, rng), this.shape, rng, k, this.lp, this.draw);
    const chosen = this.draw.chosenRank;
    // OpenAI's entry layout, `bytes` included (vLLM sends it too): it is what a client really has to parse.
    const bytes = bytesJson(text);
    let json = `{"token":${quoted},"logprob":${fmt(this.draw.chosenLogprob)},"bytes":${bytes},"top_logprobs":[`;
    for (let r = 0; r < k; r++) {
      const w = (base + r) % WORD_COUNT;
      json += r === chosen
        ? `${r ? ',' : ''}{"token":${quoted},"logprob":${fmt(this.lp[r]!)},"bytes":${bytes}}`
        : `${r ? ',' : ''}{"token":${WORD_JSON[w]!},"logprob":${fmt(this.lp[r]!)},"bytes":${WORD_BYTES_JSON[w]!}}`;
    }
    entry.json = `${json}]}`;
  }
}

/** Logprobs as servers print them: ~7 significant digits. */
function fmt(x: number): string {
  return String(Math.round(x * 1e7) / 1e7);
}

function defaultReference(profile: SimProfile, prompt: string): string {
  const h = hashString(prompt, 0x1234567);
  return profile === 'final-answer' ? 'ABCD'[h % 4]! : String(2 + (h % 998));
}

function wrongAnswer(profile: SimProfile, reference: string, rng: Rng): string {
  if (profile === 'final-answer') {
    const letters = 'ABCD'.replace(reference.toUpperCase(), '');
    return letters[rng.int(letters.length)]!;
  }
  const n = Number(reference);
  return Number.isFinite(n) && reference.trim() !== '' ? String(n + 1 + rng.int(9)) : `${reference}+1`;
}
