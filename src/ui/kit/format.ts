/** Small display helpers shared by the views. */

/** `0x1234…abcd` for long hex strings (addresses, ids, hashes); short strings unchanged. */
export function shortHex(s: string, head = 6, tail = 4): string {
  return s.length <= head + tail + 3 ? s : `${s.slice(0, head)}…${s.slice(-tail)}`;
}

/** Local date and time of a Unix timestamp in seconds. */
export function formatTime(seconds: number | bigint): string {
  const ms = Number(seconds) * 1000;
  if (!Number.isFinite(ms) || ms <= 0) return '—';
  return new Date(ms).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

export function formatCount(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}
