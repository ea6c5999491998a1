/**
 * Query layer public API: parse → check → plan → (MPC program | plaintext reference) → finalize.
 * See docs/query.md for the grammar and the security of each construct.
 */
export { QueryError, type Pos, type QueryErrorCode } from './errors';
export * as limits from './limits';
export type * from './ast';
export { lex, type Token } from './lexer';
export { parse } from './parser';
export { canonicalize, hashCanonical, queryHash } from './canonical';
export {
  resolveSchema,
  encodeCell,
  dateToDays,
  daysToDate,
  type ColumnType,
  type ColumnSchema,
  type DatasetSchema,
  type ResolvedColumn,
  type ResolvedSchema,
} from './schema';
export {
  checkQuery,
  compileQueryText,
  closest,
  type CheckedQuery,
  type CheckedItem,
  type Pred,
  type AggSpec,
} from './check';
export {
  planQuery,
  bitColumns,
  layout,
  AVG_FRAC_BITS,
  AVG_MIN_FRAC_BITS,
  VAR_FRAC_BITS,
  CORR_FRAC_BITS,
  releasedStats,
  type FixedAgg,
  type Plan,
  type BoolIR,
  type RowVec,
} from './plan';
export {
  enforcePolicy,
  validatePolicy,
  noiseScales,
  QUERY_KINDS,
  DEFAULT_POLICY,
  type Policy,
  type QueryKind,
} from './policy';
export {
  finalize,
  signed,
  P,
  type QueryResult,
  type ResultRow,
  type ResultValue,
} from './finalize';
export { evaluatePlain, sameOpened, type Columns } from './reference';
export { runPlan, type OutputMode, type RunPlanOptions, type RunPlanResult } from './mpc';
export {
  jointDiscreteLaplace,
  discreteLaplacePmf,
  sampleDiscreteLaplacePlain,
  geometricDigits,
} from './dp';
export { runPlanInMemory, type InMemoryOptions, type InMemoryRun } from './simulate';
export { adoptStored, dealStored, type StoredInputs } from './stored';
export { sealShares, unsealShares, openSealedResult, MAX_SEALED_ELEMENTS } from './seal';
export { prepareAnswer, answerQuery, openAnswer, type AnswerRequest } from './answer';
