/** Errors of the chain layer: a stable `code`, a message naming what and where, an optional cause. */
export type ChainErrorCode =
  | 'CHAIN_BAD_KEY'
  | 'CHAIN_BAD_INPUT'
  | 'CHAIN_CONFIG_MISSING'
  | 'CHAIN_TX_FAILED'
  | 'CHAIN_UNAUTHORISED';

export class ChainError extends Error {
  readonly code: ChainErrorCode;
  constructor(code: ChainErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChainError';
    this.code = code;
  }
}
