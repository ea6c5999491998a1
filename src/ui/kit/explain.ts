/**
 * Turns any error the views can meet (app, query, storage, chain, wallet, network) into plain
 * words: what happened, and what the person can do next. No stack traces, no raw revert data.
 */
import { AppError } from '../../app/api';
import { QueryError } from '../../query/errors';
import { StorageError } from '../../storage/errors';
import { ChainError } from '../../chain/errors';

export interface Explained {
  message: string;
  /** What to do next, in plain words; undefined when there is nothing useful to add. */
  next?: string;
  code?: string;
}

const REVERT_HINTS: Record<string, string> = {
  InsufficientDeposit: 'Send at least the minimum deposit shown above.',
  KeyAlreadyRegistered: 'This node key is already registered; nothing more to do.',
  NotDatasetOwner: 'Only the wallet that registered the dataset can change it. Switch wallets.',
  InvalidPolicy:
    'Choose at least one query kind, a budget of at least 1 and an expiry in the future.',
  NoActiveGrant: 'Ask the data owner for access to this dataset.',
  GrantExpired: 'Your access has expired. Ask the data owner to renew it.',
  BudgetExhausted: 'You have used every query of your budget. Ask the data owner for more.',
  QueryKindNotAllowed:
    'The query uses a kind of computation the owner did not allow. Check the policy.',
  FeeTooLow: 'Raise the fee to at least the minimum shown.',
  DatasetExists: 'A dataset with this name already exists for your wallet. Pick another name.',
  InvalidCommitteeSize: 'Pick a committee of 3 to 16 nodes.',
  InvalidThreshold: 'The threshold must be at least 1 and less than half the committee size.',
  NodeNotActive: 'The node is not active on chain (not registered, leaving, or exited).',
  NotNodeOperator: 'Only the wallet that registered this node can do that.',
};

function field(err: object, name: string): unknown {
  return (err as Record<string, unknown>)[name];
}

function walletExplain(err: object): Explained | undefined {
  const code = field(err, 'code');
  const name = field(err, 'name');
  const short = field(err, 'shortMessage');
  const text = `${typeof short === 'string' ? short : ''} ${String(field(err, 'message') ?? '')}`;
  if (code === 4001 || name === 'UserRejectedRequestError' || /user (rejected|denied)/i.test(text))
    return {
      message: 'You declined the request in your wallet.',
      next: 'Nothing was sent. Try again when you are ready.',
    };
  if (/insufficient funds/i.test(text))
    return {
      message: 'The wallet does not hold enough ETH for this transaction and its gas.',
      next: 'Add funds to this account, or connect another wallet.',
    };
  if (/fetch failed|failed to fetch|HTTP request failed|network ?error/i.test(text))
    return {
      message: 'The blockchain node could not be reached.',
      next: 'Check your connection, or ask whoever runs this network whether the chain is up; then try again.',
    };
  const revert = /reverted with the following (?:signature|reason)?[^:]*:\s*\n?\s*(\w+)/.exec(
    text,
  )?.[1];
  const errorName =
    (field(err, 'data') as { errorName?: unknown } | undefined)?.errorName ??
    (/Error: (\w+)\(/.exec(text)?.[1] || revert);
  if (typeof errorName === 'string' && REVERT_HINTS[errorName])
    return {
      message: `The contract refused the transaction (${errorName}).`,
      next: REVERT_HINTS[errorName]!,
    };
  if (typeof short === 'string') return { message: short };
  return undefined;
}

export function explain(err: unknown): Explained {
  if (err instanceof AppError)
    return { message: err.message, code: err.code, ...(err.hint ? { next: err.hint } : {}) };
  if (err instanceof QueryError)
    return {
      message: err.message,
      code: err.code,
      next:
        err.code === 'POLICY_REFUSED'
          ? 'Change the query to use only what the policy allows, or ask the data owner.'
          : 'Fix the query where indicated and try again.',
    };
  if (err instanceof StorageError) {
    const next: Partial<Record<string, string>> = {
      CSV_EMPTY: 'Choose a file that contains a header line and data rows.',
      CSV_TOO_LARGE: 'Split the file into several smaller datasets.',
      CSV_ENCODING: 'Save the file as UTF-8 CSV (most spreadsheet programs offer this) and retry.',
      CSV_HEADER: 'Give every column a unique, non-empty name in the first line.',
      CSV_NO_ROWS: 'The file has a header but no data rows.',
      SCHEMA_INVALID: 'Adjust the column types in the table and try again.',
      UPLOAD_NOT_ACCEPTED: 'Fix the rows listed, or confirm that they are left out.',
    };
    return {
      message: err.message.replace(/^[A-Z_]+: /, ''),
      code: err.code,
      ...(next[err.code] ? { next: next[err.code]! } : {}),
    };
  }
  if (err instanceof ChainError) {
    const cause = err.cause && typeof err.cause === 'object' ? walletExplain(err.cause) : undefined;
    return cause ?? { message: err.message, code: err.code };
  }
  if (err && typeof err === 'object') {
    const w = walletExplain(err);
    if (w) return w;
  }
  if (err instanceof Error) return { message: err.message };
  return { message: String(err) };
}

/** One line: the message, then what to do next. */
export function explainText(err: unknown): string {
  const e = explain(err);
  return e.next ? `${e.message} ${e.next}` : e.message;
}
