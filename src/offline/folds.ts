import { MT19937, legacyShuffle } from './rng/mt19937.ts';

/**
 * sklearn's cross-validation splitters as a test-fold id per row (fold k's validation rows = rows with id k, in
 * ascending row order; training = the rest). Bit-exact with sklearn 1.2 / numpy 1.24 (SPEC §3.5).
 */

/**
 * `StratifiedKFold(n_splits, shuffle=True, random_state=seed)`: classes coded by first appearance, per-fold class
 * allocation from the sorted codes, then each class's fold list shuffled by one legacy `RandomState(seed)`.
 */
export function stratifiedKFold(y: ArrayLike<number>, nSplits = 5, seed = 42): Int32Array {
  const n = y.length;
  checkSplits(nSplits, n);
  // class codes by order of first appearance (sklearn: np.unique(y, return_index) then rank of first index)
  const codeOf = new Map<number, number>();
  const enc = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = y[i]!;
    let c = codeOf.get(v);
    if (c === undefined) codeOf.set(v, (c = codeOf.size));
    enc[i] = c;
  }
  const nClasses = codeOf.size;
  const counts = new Int32Array(nClasses);
  for (let i = 0; i < n; i++) counts[enc[i]!]!++;
  if (counts.every((c) => c < nSplits)) {
    throw new RangeError(`StratifiedKFold: n_splits=${nSplits} cannot be greater than the number of members in each class`);
  }
  // y_order = sorted codes; allocation[f][c] = #code c in y_order[f::nSplits]
  const alloc = new Int32Array(nSplits * nClasses);
  let pos = 0;
  for (let c = 0; c < nClasses; c++) {
    for (let k = 0; k < counts[c]!; k++, pos++) alloc[(pos % nSplits) * nClasses + c]!++;
  }
  const rng = new MT19937(seed);
  const testFold = new Int32Array(n);
  for (let c = 0; c < nClasses; c++) {
    const folds = new Int32Array(counts[c]!);
    let w = 0;
    for (let f = 0; f < nSplits; f++) for (let k = 0; k < alloc[f * nClasses + c]!; k++) folds[w++] = f;
    legacyShuffle(rng, folds);
    let r = 0;
    for (let i = 0; i < n; i++) if (enc[i] === c) testFold[i] = folds[r++]!;
  }
  return testFold;
}

/**
 * `GroupKFold(n_splits)` (sklearn 1.2): groups sorted by size, largest first — via numpy's default (unstable)
 * quicksort argsort reversed, so equal-size groups keep numpy's order — each put in the currently lightest fold
 * (first minimum on ties).
 */
export function groupKFold(groups: ArrayLike<number>, nSplits = 5): Int32Array {
  const n = groups.length;
  checkSplits(nSplits, n);
  const unique = Array.from(new Set(Array.from(groups))).sort((a, b) => a - b);
  if (nSplits > unique.length) {
    throw new RangeError(`GroupKFold: n_splits=${nSplits} cannot be greater than the number of groups (${unique.length})`);
  }
  const codeOf = new Map<number, number>(unique.map((g, i) => [g, i]));
  const code = new Int32Array(n);
  const sizes = new Float64Array(unique.length);
  for (let i = 0; i < n; i++) {
    code[i] = codeOf.get(groups[i]!)!;
    sizes[code[i]!]!++;
  }
  const order = numpyArgsort(sizes);
  const foldWeight = new Float64Array(nSplits);
  const groupFold = new Int32Array(unique.length);
  for (let k = order.length - 1; k >= 0; k--) {
    const g = order[k]!;
    let lightest = 0;
    for (let f = 1; f < nSplits; f++) if (foldWeight[f]! < foldWeight[lightest]!) lightest = f;
    foldWeight[lightest]! += sizes[g]!;
    groupFold[g] = lightest;
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = groupFold[code[i]!]!;
  return out;
}

function checkSplits(nSplits: number, n: number): void {
  if (!Number.isInteger(nSplits) || nSplits < 2) throw new RangeError(`n_splits must be an integer ≥ 2, got ${nSplits}`);
  if (nSplits > n) throw new RangeError(`Cannot have number of splits n_splits=${nSplits} greater than the number of samples: n_samples=${n}`);
}

const SMALL_QUICKSORT = 15; // npysort_common.h: partitions while pr − pl > 15

/**
 * numpy's `np.argsort(v)` with the default kind (introsort: median-of-3 quicksort, insertion sort up to 16
 * elements, heapsort past the depth limit) — the generic npysort `aquicksort`, so ties come out in numpy's order.
 */
export function numpyArgsort(v: ArrayLike<number>): Int32Array {
  const num = v.length;
  const tosort = new Int32Array(num);
  for (let i = 0; i < num; i++) tosort[i] = i;
  if (num < 2) return tosort;
  const less = (a: number, b: number): boolean => a < b || (b !== b && a === a); // NaNs sort last
  const swap = (i: number, j: number): void => {
    const t = tosort[i]!;
    tosort[i] = tosort[j]!;
    tosort[j] = t;
  };
  const stack: number[] = [];
  const depthStack: number[] = [];
  let pl = 0;
  let pr = num - 1;
  let cdepth = msb(num) * 2;
  for (;;) {
    if (cdepth < 0) {
      aheapsort(v, tosort, pl, pr - pl + 1, less);
    } else {
      while (pr - pl > SMALL_QUICKSORT) {
        const pm = pl + ((pr - pl) >> 1);
        if (less(v[tosort[pm]!]!, v[tosort[pl]!]!)) swap(pm, pl);
        if (less(v[tosort[pr]!]!, v[tosort[pm]!]!)) swap(pr, pm);
        if (less(v[tosort[pm]!]!, v[tosort[pl]!]!)) swap(pm, pl);
        const vp = v[tosort[pm]!]!;
        let pi = pl;
        let pj = pr - 1;
        swap(pm, pj);
        for (;;) {
          do ++pi;
          while (less(v[tosort[pi]!]!, vp));
          do --pj;
          while (less(vp, v[tosort[pj]!]!));
          if (pi >= pj) break;
          swap(pi, pj);
        }
        swap(pi, pr - 1);
        // push the larger partition, continue with the smaller
        if (pi - pl < pr - pi) {
          stack.push(pi + 1, pr);
          pr = pi - 1;
        } else {
          stack.push(pl, pi - 1);
          pl = pi + 1;
        }
        depthStack.push(--cdepth);
      }
      // insertion sort
      for (let pi = pl + 1; pi <= pr; pi++) {
        const vi = tosort[pi]!;
        const vv = v[vi]!;
        let pj = pi;
        while (pj > pl && less(vv, v[tosort[pj - 1]!]!)) {
          tosort[pj] = tosort[pj - 1]!;
          pj--;
        }
        tosort[pj] = vi;
      }
    }
    if (stack.length === 0) break;
    pr = stack.pop()!;
    pl = stack.pop()!;
    cdepth = depthStack.pop()!;
  }
  return tosort;
}

function msb(n: number): number {
  let depth = 0;
  while (n > 1) {
    n = Math.floor(n / 2);
    depth++;
  }
  return depth;
}

/** npysort `aheapsort` on tosort[start … start+n−1]. */
function aheapsort(v: ArrayLike<number>, tosort: Int32Array, start: number, n: number, less: (a: number, b: number) => boolean): void {
  // 1-based heap indexing: a[i] = tosort[start + i − 1]
  const a = (i: number): number => tosort[start + i - 1]!;
  const set = (i: number, val: number): void => {
    tosort[start + i - 1] = val;
  };
  for (let l = n >> 1; l > 0; --l) {
    const tmp = a(l);
    let i = l;
    for (let j = l << 1; j <= n; ) {
      if (j < n && less(v[a(j)]!, v[a(j + 1)]!)) j += 1;
      if (less(v[tmp]!, v[a(j)]!)) {
        set(i, a(j));
        i = j;
        j += j;
      } else break;
    }
    set(i, tmp);
  }
  for (; n > 1; ) {
    const tmp = a(n);
    set(n, a(1));
    n -= 1;
    let i = 1;
    for (let j = 2; j <= n; ) {
      if (j < n && less(v[a(j)]!, v[a(j + 1)]!)) j++;
      if (less(v[tmp]!, v[a(j)]!)) {
        set(i, a(j));
        i = j;
        j += j;
      } else break;
    }
    set(i, tmp);
  }
}
