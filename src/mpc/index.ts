/**
 * Confide's MPC engine: a pure library (no DOM, network or storage) that runs the same in a Web
 * Worker, in Node and in tests. See docs/engine.md.
 */
export { MpcError, isMpcError, type MpcErrorCode } from './errors';
export { Field, P, toField, fromFieldSigned, vecFrom, type Vec } from './field';
export { cryptoRng, seededRng, type Rng } from './rng';
export {
  share,
  shareDeg,
  reconstruct,
  robustReconstruct,
  findInconsistent,
  berlekampWelch,
  lagrangeCoefficients,
  lagrangeAt,
  xOf,
  checkParams,
} from './shamir';
export {
  encodeData,
  FRAME_DATA,
  encodeAbort,
  decodeFrame,
  HEADER_BYTES,
  MAX_FRAME_ELEMENTS,
  type Frame,
} from './codec';
export type { Transport } from './transport';
export { createMemoryNetwork, type MemoryNetwork, type MemoryNetworkOptions } from './memnet';
export { Party, type PartyOptions, type Incident } from './runtime';
export { prgKey, prgExpand, type PrgKey } from './prg';
export {
  Session,
  sklansky,
  CMP_BITS,
  MAX_CMP_BITS,
  type Shared,
  type Operand,
  type VerifyOptions,
  type OpenResult,
} from './session';
export { runParties, type RunOptions } from './simulate';
