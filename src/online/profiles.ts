/**
 * Task profiles: which final-answer marker cuts the prefinal trace (SPEC §1.5, §2.1–§2.5) and how the answer is read.
 *
 * | profile        | pipeline            | prefinal cut (first match, start of its line)                    | needs c > 0 |
 * |----------------|---------------------|------------------------------------------------------------------|-------------|
 * | `final-answer` | GPQA, AR-LSAT       | `Final\s+Answer\s*:` (case-insensitive)                           | no          |
 * | `boxed`        | MATH-500            | `\boxed{`                                                        | no          |
 * | `final-boxed`  | GSM8K               | `Final\s*:` (case-insensitive), else `\boxed{`                    | yes         |
 * | `code`         | LiveCodeBench       | ```` ```python ````, else ```` ``` ````, else a line starting `def x`, `class Solution`, `import sys`, `import os`, `from x import`; on the first line the cut is the match itself | yes |
 * | `none`         | —                   | no cut: prefinal columns are the NaN block, `prefinal_len` 0       | —           |
 *
 * The marker is searched in the text the tokens spell (their strings concatenated, both channels in arrival
 * order), which is what the paper's char cut-off assumes; SPEC §6.2 lists where that assumption breaks.
 */
import { CompiledPattern, P } from './stream-pattern.ts';

export const PROFILE_NAMES = ['final-answer', 'boxed', 'final-boxed', 'code', 'none'] as const;
export type Profile = (typeof PROFILE_NAMES)[number];

export interface MarkerRule {
  /** Short name, e.g. `final_answer`, `boxed`, `python_fence`. */
  readonly name: string;
  readonly pattern: CompiledPattern;
}

export interface ProfileSpec {
  readonly name: Profile;
  /** Markers in priority order: the first-occurring match of the highest-priority marker that occurs decides the cut. */
  readonly markers: readonly MarkerRule[];
  /** `line-start`: c = start of the marker's line (0 on the first line). `line-start-or-match`: on the first line c = the match index (LiveCodeBench). */
  readonly cut: 'line-start' | 'line-start-or-match';
  /** Prefinal only when c > 0 (GSM8K, LiveCodeBench); otherwise c = 0 gives an empty prefinal list (MATH, GPQA). */
  readonly requirePositiveCut: boolean;
  readonly pipeline: string;
}

const { lit, seq, alt, star, plus, space, word } = P;

const FINAL_ANSWER = new CompiledPattern(seq(lit('final', true), plus(space), lit('answer', true), star(space), lit(':')));
const FINAL_COLON = new CompiledPattern(seq(lit('final', true), star(space), lit(':')));
const BOXED = new CompiledPattern(lit('\\boxed{'));
const PYTHON_FENCE = new CompiledPattern(lit('```python'));
const FENCE = new CompiledPattern(lit('```'));
const CODE_LINE = new CompiledPattern(alt(
  seq(lit('def'), plus(space), plus(word)),
  seq(lit('class'), plus(space), lit('Solution')),
  seq(lit('import'), plus(space), lit('sys')),
  seq(lit('import'), plus(space), lit('os')),
  seq(lit('from'), plus(space), plus(word), plus(space), lit('import')),
), true);

const SPECS: Record<Profile, ProfileSpec> = {
  'final-answer': {
    name: 'final-answer', pipeline: 'GPQA-Diamond / AR-LSAT',
    markers: [{ name: 'final_answer', pattern: FINAL_ANSWER }], cut: 'line-start', requirePositiveCut: false,
  },
  boxed: {
    name: 'boxed', pipeline: 'MATH-500',
    markers: [{ name: 'boxed', pattern: BOXED }], cut: 'line-start', requirePositiveCut: false,
  },
  'final-boxed': {
    name: 'final-boxed', pipeline: 'GSM8K',
    markers: [{ name: 'final_line', pattern: FINAL_COLON }, { name: 'boxed', pattern: BOXED }], cut: 'line-start', requirePositiveCut: true,
  },
  code: {
    name: 'code', pipeline: 'LiveCodeBench',
    markers: [{ name: 'python_fence', pattern: PYTHON_FENCE }, { name: 'generic_fence', pattern: FENCE }, { name: 'code_line', pattern: CODE_LINE }],
    cut: 'line-start-or-match', requirePositiveCut: true,
  },
  none: { name: 'none', pipeline: '—', markers: [], cut: 'line-start', requirePositiveCut: false },
};

export function profileSpec(profile: Profile): ProfileSpec {
  return SPECS[profile];
}

export function isProfile(name: string): name is Profile {
  return (PROFILE_NAMES as readonly string[]).includes(name);
}
