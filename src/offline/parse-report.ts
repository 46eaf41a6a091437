/**
 * Reads the figures back out of a text report in the paper's layout (SPEC §3.6) — a published report or one of ours —
 * so reports can be compared number by number (`failmode reproduce`, the reproduction tests). `nan` and `N/A` are null.
 * Lines it does not recognise are ignored; a missing part is null / empty, never a guess.
 */

export interface ParsedEstimate {
  readonly prauc: number | null;
  readonly lo: number | null;
  readonly hi: number | null;
  readonly auroc: number | null;
}

export interface ParsedDelta {
  readonly T: number;
  /** null for a `T=…  N/A` row. */
  readonly mean: number | null;
  readonly lo: number | null;
  readonly hi: number | null;
  readonly pGreater: number | null;
  readonly verdict: string | null;
}

export interface ParsedReport {
  readonly file: string | null;
  readonly modelName: string | null;
  readonly windows: number[];
  readonly nBoot: number | null;
  readonly prefinalMode: boolean;
  /** The `Procedure:` line (our reports only). */
  readonly procedure: 'paper' | 'corrected' | null;
  readonly prefinalRestricted: { readonly n: number; readonly failures: number } | null;
  readonly overview: {
    readonly n: number | null;
    readonly failures: number | null;
    readonly meanGenLen: number | null;
    readonly prefinalValid: number | null;
    readonly fullColumns: number | null;
    readonly windows: Array<{ T: number; columns: number; meanWindowLen: number | null }>;
  };
  readonly ablation: {
    readonly baseline: number | null;
    readonly full: ParsedEstimate | null;
    readonly early: Array<ParsedEstimate & { T: number }>;
    readonly fullOofCount: number | null;
    readonly deltas: ParsedDelta[];
    readonly bestWindow: { T: number; prauc: number | null } | null;
    readonly signature: 'committed' | 'near-committed' | 'persistent' | null;
  };
  readonly section3:
    | { readonly kind: 'reference'; readonly rawFull: ParsedEstimate | null; readonly generatedLen: ParsedEstimate | null }
    | {
        readonly kind: 'ablation';
        readonly validRows: number | null;
        readonly validFailures: number | null;
        readonly full: ParsedEstimate | null;
        readonly early: Array<ParsedEstimate & { T: number; beats: boolean }>;
        readonly deltas: ParsedDelta[];
        readonly bestWindow: { T: number; prauc: number | null } | null;
        readonly survives: boolean | null;
      }
    | null;
  readonly features: {
    readonly single: Array<{ feature: string; full: number | null; windows: Array<number | null> }>;
    readonly shapes: Array<{ feature: string; bestT: number | null; bestPA: number | null; fullPA: number | null; shape: string }>;
    readonly aggregate: null | { maxFull: number | null; meanFull: number | null; windows: Array<{ T: number; max: number | null; mean: number | null }> };
  };
  readonly summary: {
    readonly n: number | null;
    readonly failures: number | null;
    readonly fullPrauc: number | null;
    readonly rows: Array<{ T: number; early: number | null; full: number | null; delta: ParsedDelta | null }>;
    readonly verdict: null | { type: 'committed' | 'near-committed' | 'persistent'; T: number | null; early: number | null; full: number | null };
  };
  readonly complete: boolean;
}

const NUM = String.raw`[+-]?(?:nan|inf|\d+(?:\.\d+)?)`;

/** A printed number: `0.1234`, `+0.0000`, `nan`, `N/A` → null. */
export function parseReportNumber(s: string | undefined): number | null {
  if (s === undefined) return null;
  const t = s.trim();
  if (t === '' || /^[+-]?nan$/i.test(t) || t === 'N/A') return null;
  const v = Number(t.replace(/^\+/, ''));
  return Number.isNaN(v) ? null : v;
}

type Section = 'head' | 's1' | 's2' | 's2a' | 's2b' | 's3' | 's3a' | 's3b' | 's3c' | 's4' | 's4b' | 's4c' | 's5' | 'end';

export function parseReport(text: string): ParsedReport {
  const lines = text.split(/\r?\n/);
  let section: Section = 'head';
  let file: string | null = null;
  let modelName: string | null = null;
  let windows: number[] = [];
  let nBoot: number | null = null;
  let prefinalMode = false;
  let procedure: ParsedReport['procedure'] = null;
  let prefinalRestricted: ParsedReport['prefinalRestricted'] = null;
  const ov = { n: null as number | null, failures: null as number | null, meanGenLen: null as number | null, prefinalValid: null as number | null, fullColumns: null as number | null, windows: [] as ParsedReport['overview']['windows'] };
  const ab = { baseline: null as number | null, full: null as ParsedEstimate | null, early: [] as ParsedReport['ablation']['early'], fullOofCount: null as number | null, deltas: [] as ParsedDelta[], bestWindow: null as ParsedReport['ablation']['bestWindow'], signature: null as ParsedReport['ablation']['signature'] };
  let s3ref: { kind: 'reference'; rawFull: ParsedEstimate | null; generatedLen: ParsedEstimate | null } | null = null;
  let s3abl: Extract<NonNullable<ParsedReport['section3']>, { kind: 'ablation' }> | null = null;
  const s3early: Array<ParsedEstimate & { T: number; beats: boolean }> = [];
  const s3deltas: ParsedDelta[] = [];
  let s3best: { T: number; prauc: number | null } | null = null;
  let s3survives: boolean | null = null;
  let s3full: ParsedEstimate | null = null;
  let s3valid: number | null = null;
  let s3validFailures: number | null = null;
  const single: ParsedReport['features']['single'] = [];
  const shapes: ParsedReport['features']['shapes'] = [];
  let aggregate: ParsedReport['features']['aggregate'] = null;
  let aggWindows: number[] = [];
  const sm = { n: null as number | null, failures: null as number | null, fullPrauc: null as number | null, rows: [] as ParsedReport['summary']['rows'], verdict: null as ParsedReport['summary']['verdict'] };
  let complete = false;
  let m: RegExpMatchArray | null;

  for (let i = 0; i < lines.length; i++) {
    const ln = lines[i]!;
    // Section switches.
    if (/^ {2}SECTION 1 — /.test(ln)) { section = 's1'; continue; }
    if (/^ {2}SECTION 2 — /.test(ln)) { section = 's2'; continue; }
    if (/^ {2}2a\. /.test(ln)) { section = 's2a'; continue; }
    if (/^ {2}2b\. /.test(ln)) { section = 's2b'; continue; }
    if (/^ {2}SECTION 3 — Length Confound Reference/.test(ln)) { section = 's3'; s3ref = { kind: 'reference', rawFull: null, generatedLen: null }; continue; }
    if (/^ {2}SECTION 3 — Prefinal Ablation/.test(ln)) { section = 's3'; s3abl = { kind: 'ablation', validRows: null, validFailures: null, full: null, early: s3early, deltas: s3deltas, bestWindow: null, survives: null }; continue; }
    if (/^ {2}3a\. /.test(ln)) { section = 's3a'; continue; }
    if (/^ {2}3b\. /.test(ln)) { section = 's3b'; continue; }
    if (/^ {2}3c\. /.test(ln)) { section = 's3c'; continue; }
    if (/^ {2}SECTION 4 — /.test(ln)) { section = 's4'; continue; }
    if (/^ {2}4b\. /.test(ln)) { section = 's4b'; continue; }
    if (/^ {2}4c\. /.test(ln)) { section = 's4c'; continue; }
    if (/^ {2}SECTION 5 — /.test(ln)) { section = 's5'; continue; }
    if (/^ {2}Analysis complete\./.test(ln)) { complete = true; section = 'end'; continue; }

    switch (section) {
      case 'head':
        if ((m = ln.match(/^ {2}File: (.*)$/))) file = m[1]!;
        else if (file === null && (m = ln.match(/^Loading: (.*)$/))) file = m[1]!;
        else if ((m = ln.match(/^ {2}Single-File Multi-Window Analysis — (.*)$/))) modelName = m[1]!;
        else if ((m = ln.match(/^ {2}Windows: \[(.*)\]$/))) windows = intList(m[1]!);
        else if ((m = ln.match(/^ {2}Bootstrap iterations: (\d+)/))) nBoot = Number(m[1]);
        else if ((m = ln.match(/^ {2}Mode: (\S+)/))) prefinalMode = m[1] === 'PREFINAL';
        else if ((m = ln.match(/^ {2}Procedure: (paper|corrected)/))) procedure = m[1] as 'paper' | 'corrected';
        else if ((m = ln.match(/^ {2}\[Prefinal mode\] Restricted to (\d+) prefinal-valid rows \((\d+) failures/))) prefinalRestricted = { n: Number(m[1]), failures: Number(m[2]) };
        break;
      case 's1':
        if ((m = ln.match(/^ {2}n=(\d+) {2}failures=(\d+)/))) { ov.n = Number(m[1]); ov.failures = Number(m[2]); }
        else if ((m = ln.match(/^ {2}mean_gen_len=(\S+)(?: {2}prefinal_valid=(\d+)\/)?/))) { ov.meanGenLen = parseReportNumber(m[1]); ov.prefinalValid = m[2] === undefined ? null : Number(m[2]); }
        else if ((m = ln.match(/^ {2}Full-trace columns available: (\d+)/))) ov.fullColumns = Number(m[1]);
        else if ((m = ln.match(/^ {2}T=(\d+)\s+(\d+)\s+(\S+)\s*$/))) ov.windows.push({ T: Number(m[1]), columns: Number(m[2]), meanWindowLen: parseReportNumber(m[3]) });
        break;
      case 's2':
        if ((m = ln.match(/^ {2}Baseline PR-AUC \(random\): (\S+)/))) ab.baseline = parseReportNumber(m[1]);
        else if ((m = ln.match(new RegExp(`^ {2}Full-trace PR-AUC: (${NUM}) {2}95% CI \\[(${NUM}), (${NUM})\\].*AUROC=(${NUM})`)))) {
          ab.full = { prauc: parseReportNumber(m[1]), lo: parseReportNumber(m[2]), hi: parseReportNumber(m[3]), auroc: parseReportNumber(m[4]) };
        }
        break;
      case 's2a': {
        const e = earlyRow(ln);
        if (e) ab.early.push({ T: e.T, prauc: e.prauc, lo: e.lo, hi: e.hi, auroc: e.auroc });
        break;
      }
      case 's2b': {
        if ((m = ln.match(/^ {2}Full-trace OOF scores computed from (\d+) samples/))) { ab.fullOofCount = Number(m[1]); break; }
        const d = deltaRow(ln);
        if (d) { ab.deltas.push(d); break; }
        if ((m = ln.match(new RegExp(`^ {2}→ Best early window: T=(\\d+) {2}\\(Early PR-AUC=(${NUM})\\)`)))) ab.bestWindow = { T: Number(m[1]), prauc: parseReportNumber(m[2]) };
        else if (/^ {2}→ Inverted-U committed failure signature PRESENT/.test(ln)) ab.signature = 'committed';
        else if (/^ {2}→ Near-committed/.test(ln)) ab.signature = 'near-committed';
        else if (/^ {2}→ Persistent uncertainty/.test(ln)) ab.signature = 'persistent';
        break;
      }
      case 's3':
        if (s3ref) {
          if ((m = ln.match(new RegExp(`^ {2}Raw full-trace PR-AUC \\(all rows\\): (${NUM}) {2}\\[(${NUM}), (${NUM})\\]`)))) s3ref.rawFull = { prauc: parseReportNumber(m[1]), lo: parseReportNumber(m[2]), hi: parseReportNumber(m[3]), auroc: null };
          else if ((m = ln.match(new RegExp(`^ {2}generated_len PR-AUC \\(length confound proxy\\): (${NUM}) {2}\\[(${NUM}), (${NUM})\\]`)))) s3ref.generatedLen = { prauc: parseReportNumber(m[1]), lo: parseReportNumber(m[2]), hi: parseReportNumber(m[3]), auroc: null };
        } else if ((m = ln.match(/^ {2}Prefinal-valid rows: (\d+)\//))) s3valid = Number(m[1]);
        else if ((m = ln.match(/^ {2}Failures in prefinal subset: (\d+)/))) s3validFailures = Number(m[1]);
        break;
      case 's3a': {
        if ((m = ln.match(new RegExp(`^ {2}Prefinal full-trace PR-AUC: (${NUM}) {2}\\[(${NUM}), (${NUM})\\]`)))) { s3full = { prauc: parseReportNumber(m[1]), lo: parseReportNumber(m[2]), hi: parseReportNumber(m[3]), auroc: null }; break; }
        const e = earlyRow(ln);
        if (e) s3early.push({ T: e.T, prauc: e.prauc, lo: e.lo, hi: e.hi, auroc: e.auroc, beats: /Yes/.test(e.last) });
        break;
      }
      case 's3b': {
        const d = deltaRow(ln);
        if (d) s3deltas.push(d);
        break;
      }
      case 's3c':
        if ((m = ln.match(new RegExp(`^ {2}Prefinal best early window: T=(\\d+) {2}\\(PR-AUC=(${NUM})\\)`)))) s3best = { T: Number(m[1]), prauc: parseReportNumber(m[2]) };
        else if (/SURVIVES prefinal stripping/.test(ln)) s3survives = true;
        else if (/Early never beats full/.test(ln)) s3survives = false;
        break;
      case 's4': {
        if ((m = ln.match(/^ {2}([a-z_]+)\s+(\S+)((?:\s+\S+)*)\s*$/)) && !/^─/.test(m[1]!)) {
          const rest = m[3]!.trim() === '' ? [] : m[3]!.trim().split(/\s+/);
          single.push({ feature: m[1]!, full: parseReportNumber(m[2]), windows: rest.map(parseReportNumber) });
        }
        break;
      }
      case 's4b':
        if ((m = ln.match(/^ {2}([a-z_]+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.+?)\s*$/)) && m[1] !== 'Feature') {
          shapes.push({ feature: m[1]!, bestT: parseReportNumber(m[2]), bestPA: parseReportNumber(m[3]), fullPA: parseReportNumber(m[4]), shape: m[5]! });
        }
        break;
      case 's4c':
        if ((m = ln.match(/^ {2}\s+Max \(full\)\s+Mean \(full\)((?:\s+T=\d+)*)\s*$/))) aggWindows = m[1]!.trim() === '' ? [] : m[1]!.trim().split(/\s+/).map((t) => Number(t.slice(2)));
        else if ((m = ln.match(new RegExp(`^ {2}\\s+(${NUM})\\s+(${NUM})((?:\\s+\\S+)*)\\s*$`)))) {
          const cells = m[3]!.trim() === '' ? [] : m[3]!.trim().split(/\s+/);
          aggregate = {
            maxFull: parseReportNumber(m[1]), meanFull: parseReportNumber(m[2]),
            windows: cells.map((c, k) => {
              const [a, b] = c.split('/');
              return { T: aggWindows[k] ?? NaN, max: parseReportNumber(a), mean: parseReportNumber(b) };
            }),
          };
        }
        break;
      case 's5': {
        if ((m = ln.match(/^ {2}N=(\d+) {2}failures=(\d+)/))) { sm.n = Number(m[1]); sm.failures = Number(m[2]); break; }
        if ((m = ln.match(/^ {2}Full-trace PR-AUC: (\S+)/))) { sm.fullPrauc = parseReportNumber(m[1]); break; }
        if ((m = ln.match(/^ {2}T=(\d+)\s+(\S+)\s+\(delta N\/A\)/))) { sm.rows.push({ T: Number(m[1]), early: parseReportNumber(m[2]), full: null, delta: null }); break; }
        if ((m = ln.match(new RegExp(`^ {2}T=(\\d+)\\s+(\\S+)\\s+(\\S+)\\s+(${NUM})\\s+\\[(${NUM}), (${NUM})\\]\\s+(${NUM})\\s+(.+?)\\s*$`)))) {
          const T = Number(m[1]);
          sm.rows.push({ T, early: parseReportNumber(m[2]), full: parseReportNumber(m[3]), delta: { T, mean: parseReportNumber(m[4]), lo: parseReportNumber(m[5]), hi: parseReportNumber(m[6]), pGreater: parseReportNumber(m[7]), verdict: m[8]! } });
          break;
        }
        if (/VERDICT: TYPE 1/.test(ln)) sm.verdict = { type: 'committed', T: null, early: null, full: null };
        else if (/VERDICT: NEAR-COMMITTED/.test(ln)) sm.verdict = { type: 'near-committed', T: null, early: null, full: null };
        else if (/VERDICT: TYPE 2/.test(ln)) sm.verdict = { type: 'persistent', T: null, early: null, full: null };
        else if (sm.verdict && (m = ln.match(new RegExp(`Commitment point: T=(\\d+) {2}\\(Early=(${NUM}) > Full=(${NUM})\\)`)))) sm.verdict = { ...sm.verdict, T: Number(m[1]), early: parseReportNumber(m[2]), full: parseReportNumber(m[3]) };
        else if (sm.verdict && (m = ln.match(new RegExp(`Best window T=(\\d+) \\(Early=(${NUM})\\)`)))) sm.verdict = { ...sm.verdict, T: Number(m[1]), early: parseReportNumber(m[2]) };
        break;
      }
      default:
        break;
    }
  }

  let section3: ParsedReport['section3'] = s3ref;
  if (s3abl) section3 = { ...s3abl, validRows: s3valid, validFailures: s3validFailures, full: s3full, bestWindow: s3best, survives: s3survives };
  return {
    file, modelName, windows, nBoot, prefinalMode, procedure, prefinalRestricted,
    overview: ov, ablation: ab, section3,
    features: { single, shapes, aggregate },
    summary: sm, complete,
  };
}

function intList(s: string): number[] {
  return s.split(',').map((x) => x.trim()).filter((x) => x !== '').map(Number);
}

/** A 2a/3a row: `T=128  0.5210  [0.4299, 0.6358]  0.5641  <last cell>`, N/A cells allowed. */
function earlyRow(ln: string): (ParsedEstimate & { T: number; last: string }) | null {
  const m = ln.match(new RegExp(`^ {2}T=(\\d+)\\s+(${NUM}|N/A)\\s+\\[(?:(${NUM}), (${NUM})|\\s*N/A\\s*)\\]\\s+(${NUM}|N/A)\\s+(.+?)\\s*$`));
  if (!m) return null;
  return { T: Number(m[1]), prauc: parseReportNumber(m[2]), lo: parseReportNumber(m[3]), hi: parseReportNumber(m[4]), auroc: parseReportNumber(m[5]), last: m[6]! };
}

/** A 2b/3b row: `T=128  -0.1126  [-0.2127, -0.0163]  0.012  ✗ Full better`, or `T=128  N/A`. */
function deltaRow(ln: string): ParsedDelta | null {
  let m = ln.match(new RegExp(`^ {2}T=(\\d+)\\s+(${NUM})\\s+\\[(${NUM}), (${NUM})\\]\\s+(${NUM})\\s+(.+?)\\s*$`));
  if (m) return { T: Number(m[1]), mean: parseReportNumber(m[2]), lo: parseReportNumber(m[3]), hi: parseReportNumber(m[4]), pGreater: parseReportNumber(m[5]), verdict: m[6]! };
  m = ln.match(/^ {2}T=(\d+)\s+N\/A\s*$/);
  if (m) return { T: Number(m[1]), mean: null, lo: null, hi: null, pGreater: null, verdict: null };
  return null;
}
