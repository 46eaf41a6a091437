import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractAnswer, isCorrect, normalizeNumber, normalizeMathAnswer, pythonFloatRepr, parsePythonFloat, referenceAnswer } from '../../src/online/extract-answer.ts';
import { DegenerateDetector } from '../../src/online/degenerate-detector.ts';

test('GSM8K (final-boxed): boxed, final_line, last_number, none; numeric normalisation', () => {
  assert.deepEqual(extractAnswer('final-boxed', 'so 3 apples\nFinal: \\boxed{1,234}'), { answer: '1,234', method: 'boxed' });
  assert.deepEqual(extractAnswer('final-boxed', 'so\nFinal: 42.'), { answer: '42.', method: 'final_line' });
  assert.deepEqual(extractAnswer('final-boxed', 'we get 3,000 apples and 12.5 pears'), { answer: '12.5', method: 'last_number' });
  assert.deepEqual(extractAnswer('final-boxed', 'no idea'), { answer: null, method: 'none' });
  assert.equal(isCorrect('final-boxed', '1,234', 'blah\n#### 1,234'), 1);
  assert.equal(isCorrect('final-boxed', '42.', '42'), 1);
  assert.equal(isCorrect('final-boxed', '18.0', '18'), 1);
  assert.equal(isCorrect('final-boxed', '$18', '18'), 0); // SPEC §2.1: `$18` ≠ `18`
  assert.equal(isCorrect('final-boxed', null, '18'), 0);
  assert.equal(normalizeNumber('0.5'), '0.5');
  assert.equal(normalizeNumber('0.00001'), '1e-05');
  assert.equal(normalizeNumber('1e20'), '100000000000000000000');
  assert.equal(normalizeNumber('inf'), 'inf');
  assert.equal(normalizeNumber('1-2'), '1-2');
  assert.equal(referenceAnswer('final-boxed', 'He has 5.\n#### 1,000'), '1000');
});

test('Python float parsing and repr', () => {
  assert.equal(parsePythonFloat('1_000.5'), 1000.5);
  assert.equal(parsePythonFloat(''), null);
  assert.equal(parsePythonFloat('0x10'), null);
  assert.equal(parsePythonFloat('.5'), 0.5);
  assert.equal(parsePythonFloat('5.'), 5);
  assert.equal(pythonFloatRepr(0.1), '0.1');
  assert.equal(pythonFloatRepr(1.5e-7), '1.5e-07');
  assert.equal(pythonFloatRepr(0.0001), '0.0001');
  assert.equal(pythonFloatRepr(123.25), '123.25');
});

test('MATH (boxed): extraction order and string-normalised correctness (SPEC §2.2)', () => {
  assert.deepEqual(extractAnswer('boxed', 'thus\n\\boxed{\\frac{1}{2}} and \\boxed{3}'), { answer: '\\frac{1}{2}', method: 'boxed' });
  assert.deepEqual(extractAnswer('boxed', 'so the value is x = 7\n'), { answer: '7', method: 'equals' });
  assert.deepEqual(extractAnswer('boxed', 'The answer is 12 apples\nthanks'), { answer: '12 apples', method: 'phrase' });
  assert.deepEqual(extractAnswer('boxed', 'we find **3/4** here\nok'), { answer: '3/4', method: 'bold' });
  assert.deepEqual(extractAnswer('boxed', 'nothing'), { answer: null, method: 'none' });
  assert.equal(isCorrect('boxed', 'x = 5', '5'), 1);
  assert.equal(isCorrect('boxed', '$5$.', '5'), 1);
  assert.equal(isCorrect('boxed', '\\text{(C)}', '(C)'), 1);
  assert.equal(isCorrect('boxed', '\\left( 1, 2 \\right)', '( 1, 2 )'), 1);
  assert.equal(isCorrect('boxed', '1,000', '1000'), 1);
  assert.equal(isCorrect('boxed', '0.3333333', '0.33333333'), 1);
  // The paper's label noise, kept on purpose (SPEC §6.1).
  assert.equal(isCorrect('boxed', 'p-q', 'p - q'), 0);
  assert.equal(isCorrect('boxed', '14/3', '\\frac{14}{3}'), 0);
  assert.equal(isCorrect('boxed', '\\dfrac{1}{2}', '\\frac{1}{2}'), 0);
  assert.equal(isCorrect('boxed', '90^\\circ', '90'), 0);
  assert.equal(isCorrect('boxed', 'ABC', 'abc'), 1);
  assert.equal(normalizeMathAnswer('  $\\mathbf{v}$ .. '), 'v$'); // as Python: the trailing $ survives the space
});

test('GPQA / AR-LSAT (final-answer): letter extraction with the fallbacks', () => {
  assert.deepEqual(extractAnswer('final-answer', 'reasoning\nFinal Answer: (b)'), { answer: 'B', method: 'final_answer' });
  assert.deepEqual(extractAnswer('final-answer', 'final   answer :C'), { answer: 'C', method: 'final_answer' });
  // No word boundary in the phrase fallback (SPEC §6.1 #3).
  assert.deepEqual(extractAnswer('final-answer', 'I think the answer is a bit unclear'), { answer: 'A', method: 'phrase' });
  assert.deepEqual(extractAnswer('final-answer', 'hmm\n(C).\n\n'), { answer: 'C', method: 'last_line_letter' });
  assert.deepEqual(extractAnswer('final-answer', 'options (a) and (d) remain, pick one'), { answer: 'D', method: 'bracketed' });
  assert.deepEqual(extractAnswer('final-answer', 'no letter here'), { answer: null, method: 'none' });
  assert.deepEqual(extractAnswer('final-answer', 'Final Answer: E'), { answer: null, method: 'none' });
  assert.deepEqual(extractAnswer('final-answer', 'Final Answer: E', { letters: 'ABCDE' }), { answer: 'E', method: 'final_answer' });
  assert.equal(isCorrect('final-answer', 'B', ' b '), 1);
  assert.equal(isCorrect('final-answer', 'B', 'C'), 0);
});

test('LiveCodeBench (code): last python fence, else last generic fence > 20 chars; correctness needs execution', () => {
  const text = 'plan\n```python\nprint(1)\n```\nbetter:\n```python\nprint(2)\n```';
  assert.deepEqual(extractAnswer('code', text), { answer: 'print(2)', method: 'python_fence' });
  assert.deepEqual(extractAnswer('code', '```\nshort\n```\n```\nimport sys\nprint(sys.argv)\n```'), { answer: 'import sys\nprint(sys.argv)', method: 'generic_fence' });
  assert.deepEqual(extractAnswer('code', '```\nshort\n```'), { answer: null, method: 'none' });
  assert.equal(isCorrect('code', 'print(2)', 'anything'), null);
  assert.deepEqual(extractAnswer('none', 'Final Answer: A'), { answer: null, method: 'none' });
});

test('degenerate flag: (.)\\1{30,} or \\d{20,}, across token boundaries, code points', () => {
  const run = (...parts: string[]) => { const d = new DegenerateDetector(); for (const p of parts) d.push(p); return d.finish(); };
  assert.equal(run('-'.repeat(31)), true);
  assert.equal(run('-'.repeat(30)), false);
  assert.equal(run('-'.repeat(15), '-'.repeat(16)), true);
  assert.equal(run('-'.repeat(15), '\n', '-'.repeat(16)), false);
  assert.equal(run('1234567890', '1234567890'), true);
  assert.equal(run('1234567890', '123456789'), false);
  assert.equal(run('\n'.repeat(40)), false);
  assert.equal(run('😀'.repeat(30)), false);
  assert.equal(run('😀'.repeat(15), '\ud83d', '\ude00' + '😀'.repeat(15)), true);
});
