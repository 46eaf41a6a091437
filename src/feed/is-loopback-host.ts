import { isIP } from 'node:net';

/**
 * True when binding to `host` only accepts connections from this machine: `localhost`, 127.0.0.0/8 and `::1`
 * (also as an IPv4-mapped `::ffff:127.x.y.z`). Anything else — `0.0.0.0`, `::`, a LAN address, a host name —
 * may be reachable from elsewhere, so `failmode serve` requires `--token` for it.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  const v = isIP(h);
  if (v === 4) return h.startsWith('127.');
  if (v === 6) {
    if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped !== null && mapped[1]!.startsWith('127.');
  }
  return false;
}
