/**
 * Results this tab received, kept in sessionStorage (this tab's session only: closing the tab
 * forgets them; they are never sent anywhere). Aggregates only, never records.
 */
import type { QueryResult } from '../../query/finalize';

export interface SessionResult {
  queryId: string;
  datasetId: string;
  datasetName: string;
  text: string;
  result: QueryResult;
  seconds: number;
  /** Unix milliseconds. */
  at: number;
}

const MAX_KEPT = 50;

function key(account: string) {
  return `confide-results-${account.toLowerCase()}`;
}

export function loadResults(account: string): SessionResult[] {
  try {
    const raw = sessionStorage.getItem(key(account));
    if (!raw) return [];
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v)
      ? (v as SessionResult[]).filter((r) => r && typeof r.queryId === 'string')
      : [];
  } catch {
    return [];
  }
}

export function saveResult(account: string, r: SessionResult): SessionResult[] {
  const all = [r, ...loadResults(account).filter((x) => x.queryId !== r.queryId)].slice(
    0,
    MAX_KEPT,
  );
  try {
    sessionStorage.setItem(key(account), JSON.stringify(all));
  } catch {
    // storage full or disabled: the result stays on screen for this visit
  }
  return all;
}
