/**
 * One call for a compute node: check that the query text is the one the chain authorised (by its
 * canonical hash), type-check it against the dataset schema, refuse what the grant's policy does
 * not allow, run the MPC program with this party's shares, and seal the verified result shares to
 * the requester's key. The requester collects t+1 boxes and calls `openAnswer`.
 */
import type { Operand, Session } from '../mpc/index';
import { checkQuery } from './check';
import { QueryError } from './errors';
import { finalize, type QueryResult } from './finalize';
import { runPlan } from './mpc';
import { parse } from './parser';
import { planQuery, type Plan } from './plan';
import { enforcePolicy, type Policy } from './policy';
import type { DatasetSchema, ResolvedSchema } from './schema';
import { openSealedResult, sealShares } from './seal';

export interface AnswerRequest {
  text: string;
  /** The query hash recorded on chain: the node refuses any other text. */
  authorisedHash: string;
  schema: DatasetSchema | ResolvedSchema;
  policy: Policy;
  /** This party's shares of the dataset's columns, keyed by schema column index. */
  columns: ReadonlyMap<number, Operand>;
  /** Shares of the bits of x − lo of columns stored bit-decomposed (see RunPlanOptions.bits). */
  bits?: ReadonlyMap<number, readonly Operand[]>;
  requesterPublicKey: Uint8Array;
}

/** Compiles and checks a request without any communication (every party does this first). */
export function prepareAnswer(
  req: Pick<AnswerRequest, 'text' | 'authorisedHash' | 'schema' | 'policy'>,
): Plan {
  const checked = checkQuery(parse(req.text), req.schema);
  if (checked.hash !== req.authorisedHash) {
    throw new QueryError(
      'POLICY_REFUSED',
      `the query's hash ${checked.hash.slice(0, 16)}… is not the authorised ${String(req.authorisedHash).slice(0, 16)}…`,
    );
  }
  enforcePolicy(checked, req.policy);
  return planQuery(checked);
}

/** Runs the request on this party and returns its sealed result box (all parties call it together). */
export async function answerQuery(
  s: Session,
  req: AnswerRequest,
): Promise<{ hash: string; box: Uint8Array }> {
  const plan = prepareAnswer(req);
  const r = await runPlan(s, plan, req.columns, {
    policy: req.policy,
    output: { kind: 'shares' },
    ...(req.bits ? { bits: req.bits } : {}),
  });
  return {
    hash: plan.checked.hash,
    box: sealShares(r.shares!, s.party.self, req.requesterPublicKey, plan.checked.hash),
  };
}

/** The requester's side: t+1 (or more) boxes → the answer. */
export function openAnswer(
  req: Pick<AnswerRequest, 'text' | 'authorisedHash' | 'schema' | 'policy'>,
  boxes: readonly Uint8Array[],
  requesterSecretKey: Uint8Array,
  t: number,
): QueryResult {
  const plan = prepareAnswer(req);
  return finalize(plan, openSealedResult(boxes, requesterSecretKey, plan.checked.hash, t));
}
