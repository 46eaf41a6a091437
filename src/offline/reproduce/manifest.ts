/**
 * The paper's 27 reproducible tables (../shared/paper/README.md): table name, input file in the paper's `results/`,
 * analysis mode and the number of bootstrap resamples the published table really used (SPEC §5.3: five tables came
 * from an older script whose `--n_boot 1000` worked).
 */
export interface TableEntry {
  readonly table: string;
  readonly input: string;
  readonly mode: 'prefinal' | 'regular';
  readonly nBoot: number;
}

const t = (table: string, input: string, nBoot = 10_000, mode: TableEntry['mode'] = 'prefinal'): TableEntry => ({ table, input, mode, nBoot });

export const PAPER_TABLES: readonly TableEntry[] = [
  t('arlsat_gemma4-31b.final', 'arlsat_gemma4-31b.final.xlsx'),
  t('arlsat_gpt-oss-20b.final', 'arlsat_gptoss20b.final.xlsx'),
  t('arlsat_llama3.1-8b.final', 'arlsat_llama3.1-8B.final.xlsx'),
  t('arlsat_qwen3.5-2b.final', 'arlsat_qwen3.5-2b.final.xlsx'),
  t('easy', 'lcb_gpt-oss-20b_easy.csv', 1000),
  t('gpqa_gemini2.5.final', 'gpqa_gemini_2_5_pro_final.csv'),
  t('gpqa_gemini2.5pro_final', 'gpqa_gemini_2.5_pro.final.csv', 1000),
  t('gpqa_gemma4-31b.final', 'gpqa_gemma4-31b.final.xlsx'),
  t('gpqa_gpt-oss-20b.final', 'gpqa_gptoss20b.final.xlsx'),
  t('gpqa_gpt4o.final', 'gpqa_gpt4o.final.csv'),
  t('gpqa_llama3.1-8b.final', 'gpqa_llama3.1-8B.final.xlsx'),
  t('gpqa_qwen3.5-2b.final', 'gpqa_qwen3.5-2b.final.xlsx'),
  t('hard', 'lcb_gpt-oss-20b_medium.csv', 1000),
  t('lcb_gemma4-31b.final', 'lcb_gemma4-31B.final.xlsx'),
  t('lcb_gpt-oss-20b.final', 'lcb_gpt-oss-20b_v2.final.xlsx'),
  t('lcb_llama3.1-8b.final', 'lcb_llama3.1-8b.final.xlsx'),
  t('lcb_qwen3.5-122b.final', 'lcb_qwen3_5-122b_fixed.xlsx'),
  t('lcb_qwen3.5-2b.final', 'lcb_qwen3.5-2b.final.xlsx'),
  t('lcb_qwen3.5-9b.final', 'lcb_qwen3_5-9b_sc15_final_prefinal_fixed.csv', 10_000, 'regular'),
  t('math500_gemini2.5.final', 'math500_gemini2.5.final.csv'),
  t('math500_gemma4-31b.final', 'math500_gemma4-31b.final.xlsx', 1000),
  t('math500_gpt-oss-20b.final', 'gpt-oss-20b_math500_updated.final.xlsx'),
  t('math500_gpt4o.final', 'math500_gpt4o.final.csv'),
  t('math500_llama3.1-8b.final', 'math500_llama3.1-8B.final.xlsx'),
  t('math500_qwen3.5-122b.final', 'math500_qwen3.5-122b.final.xlsx'),
  t('math500_qwen3.5-2b.final', 'math500_qwen3.5-2b.final.xlsx'),
  t('math500_qwen3.5-9b.final', 'math500_qwen3-9b.final.xlsx'),
];

/** Looks tables up by name; unknown names are reported all at once with the valid ones. */
export function selectTables(names: readonly string[] | undefined): { tables: TableEntry[]; unknown: string[] } {
  if (!names || names.length === 0) return { tables: [...PAPER_TABLES], unknown: [] };
  const unknown = names.filter((n) => !PAPER_TABLES.some((e) => e.table === n));
  return { tables: PAPER_TABLES.filter((e) => names.includes(e.table)), unknown };
}

/**
 * Tables that hold the same samples as another table: `easy` and `hard` are splits of `lcb_gpt-oss-20b.final`, and
 * `gpqa_gemini2.5pro_final` an unfixed copy of `gpqa_gemini2.5.final`. Maps each to the table it duplicates.
 */
const DUPLICATE_OF: Readonly<Record<string, string>> = {
  easy: 'lcb_gpt-oss-20b.final',
  hard: 'lcb_gpt-oss-20b.final',
  'gpqa_gemini2.5pro_final': 'gpqa_gemini2.5.final',
};

/** The group of tables sharing samples with `table` (named after the table they all come from). */
export function sampleGroup(table: string): string {
  return DUPLICATE_OF[table] ?? table;
}

/** Whether `table` is a split or copy of another table (pooled training across tables leaves it out). */
export function isDuplicateTable(table: string): boolean {
  return table in DUPLICATE_OF;
}
