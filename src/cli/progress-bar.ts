/**
 * A one-line progress bar with ETA on stderr — only when stderr is a terminal (CI logs and pipes stay clean).
 * ETA = elapsed / done × remaining, from finished units (work units of similar size).
 */
export interface ProgressBar {
  tick(label?: string): void;
  done(): void;
}

export function createProgressBar(total: number, title: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  const enabled = stream.isTTY === true;
  const started = Date.now();
  let count = 0;
  const draw = (label: string) => {
    if (!enabled) return;
    const width = 24;
    const filled = total === 0 ? width : Math.round((count / total) * width);
    const elapsed = (Date.now() - started) / 1000;
    const eta = count > 0 ? (elapsed / count) * (total - count) : NaN;
    const etaText = Number.isFinite(eta) ? `ETA ${formatSeconds(eta)}` : 'ETA …';
    stream.write(`\r\u001b[2K${title} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${count}/${total}  ${formatSeconds(elapsed)} elapsed, ${etaText}  ${label}`.slice(0, (stream.columns ?? 120) - 1));
  };
  draw('');
  return {
    tick(label = '') {
      count++;
      draw(label);
    },
    done() {
      if (enabled) stream.write('\r\u001b[2K');
    },
  };
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}
