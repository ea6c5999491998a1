/**
 * The service protocol between client tabs (hospital, researcher) and compute nodes, on mesh
 * channel 2 (channel 0 is coordination, MPC sessions use odd channels). Links are authenticated,
 * so the sender of every message is a proven node key; everything else is checked here.
 *
 * Wire format: [1 byte version = 1][u32 BE header length][header: UTF-8 JSON][body bytes]
 *
 *   upload        client → member   body: the member's sealed share bundle
 *   receipt       member → client   signed storage receipt (commitment to its partition)
 *   schema        client → member   ask for a dataset's published schema
 *   schema-reply  member → client   the schema JSON as uploaded (the client checks its chain hash)
 *   probe         client → member   ask for the member's partition root (committee health)
 *   probe-reply   member → client
 *   query         client → member   run chain query `queryId` whose text is `text`
 *   query-status  member → client   computing / refused (with the chain's reason) / failed
 *   answer        member → client   body: the member's result shares sealed to the requester
 *   query-texts   owner → member    texts of the queries run on a dataset, with the owner's
 *                                   wallet signature binding the request to the asking tab's key
 *   query-texts-reply member → owner  the texts (the owner checks each against the chain's hash)
 *   error         either way        a request that could not be served, with a code
 *
 * Between compute nodes (re-sharing a partition whose holder left; see src/node/reshare.ts):
 *
 *   reshare       leader → new committee   plan: new member list, replaced slots, public metadata
 *   reshare-root  member → new committee   the Merkle root of the member's new partition
 *   reshare-sig   old member → leader      its node key's signature of the chain's reshare digest
 *   resize        owner → members          re-share the dataset to a committee of another size
 *                                          (the owner's wallet signature over dataset, version, size)
 *   resize-ack    member → owner           the request was checked and recorded
 *   leave         member → its committees  this node is leaving (all its committees, or the one of
 *                                          `datasetId`, e.g. its partition failed its integrity
 *                                          check): re-share its slots now
 */
export const SERVICE_CHANNEL = 2;
export const SERVICE_VERSION = 1;
/** Largest header; bodies are bounded by the mesh's message limit. */
export const MAX_HEADER_BYTES = 64 * 1024;
export const MAX_QUERY_CHARS = 20_000;

export interface Upload {
  t: 'upload';
  req: string;
  datasetId: string;
  version: number;
  memberIndex: number;
  /** Stored with the partition: name, schema JSON, threshold, committee keys. */
  meta: Record<string, string | number>;
}
export interface ReceiptMsg {
  t: 'receipt';
  req: string;
  receipt: {
    datasetId: string;
    version: number;
    memberIndex: number;
    merkleRoot: string;
    nodePublicKey: string;
    signature: string;
  };
}
export interface SchemaReq {
  t: 'schema';
  req: string;
  datasetId: string;
}
export interface SchemaReply {
  t: 'schema-reply';
  req: string;
  datasetId: string;
  schema: string;
}
export interface Probe {
  t: 'probe';
  req: string;
  datasetId: string;
}
export interface ProbeReply {
  t: 'probe-reply';
  req: string;
  datasetId: string;
  version: number;
  root: string;
  /** The member re-hashed every chunk and they match its manifest. */
  intact: boolean;
  detail?: string;
}
export interface QueryReq {
  t: 'query';
  req: string;
  /** Decimal chain query id. */
  queryId: string;
  text: string;
}
export interface QueryStatus {
  t: 'query-status';
  req: string;
  queryId: string;
  state: 'computing' | 'refused' | 'failed';
  code?: string;
  message?: string;
  /** 0..1 while computing. */
  fraction?: number;
}
export interface Answer {
  t: 'answer';
  req: string;
  queryId: string;
  memberIndex: number;
}
export interface ReshareReq {
  t: 'reshare';
  req: string;
  datasetId: string;
  fromVersion: number;
  /** Node keys (hex) of the new committee in member order. */
  committee: string[];
  /** Member slots new nodes take over (whose holder left, or added by growth); none for a
   * threshold change or refresh that keeps every member. */
  slots: number[];
  /** Public metadata of the partition (name, schema JSON, threshold), stored by new members. */
  meta: Record<string, string | number>;
  /** Stored column names in order. */
  columns: string[];
  rows: number;
  /** When the committee size changes: the owner's signature of `resizeMessage` (see Resize). */
  ownerProof?: string;
}
/** What a dataset's owner signs (EIP-191) to have its committee re-shared to `size` members. */
export function resizeMessage(
  datasetId: string,
  fromVersion: number,
  size: number,
  threshold: number,
): string {
  return `Confide: re-share dataset 0x${datasetId} from version ${fromVersion} to a committee of ${size} with threshold ${threshold}`;
}
export interface Resize {
  t: 'resize';
  req: string;
  datasetId: string;
  fromVersion: number;
  size: number;
  threshold: number;
  proof: string;
}
export interface ResizeAck {
  t: 'resize-ack';
  req: string;
  datasetId: string;
}
export interface ReshareRoot {
  t: 'reshare-root';
  req: string;
  datasetId: string;
  toVersion: number;
  memberIndex: number;
  root: string;
}
export interface ReshareSig {
  t: 'reshare-sig';
  req: string;
  datasetId: string;
  toVersion: number;
  memberIndex: number;
  signature: string;
}
/** At most this many query ids per `query-texts` request. */
export const MAX_TEXTS_PER_REQUEST = 200;

/** What a dataset's owner signs (EIP-191) to read the texts of queries run on it, from this tab. */
export function queryTextsMessage(datasetId: string, requesterKey: string): string {
  return `Confide: show the texts of queries run on dataset 0x${datasetId} to the tab with key ${requesterKey}`;
}
export interface QueryTextsReq {
  t: 'query-texts';
  req: string;
  datasetId: string;
  /** Decimal chain query ids. */
  queryIds: string[];
  /** The owner's signature of `queryTextsMessage(datasetId, requester's mesh key)`. */
  proof: string;
}
export interface QueryTextsReply {
  t: 'query-texts-reply';
  req: string;
  datasetId: string;
  texts: { queryId: string; text: string }[];
}
export interface Leave {
  t: 'leave';
  req: string;
  /** Only this dataset's committee (hex, no 0x); all of the sender's committees when absent. */
  datasetId?: string;
}
export interface ErrorMsg {
  t: 'error';
  req: string;
  code: string;
  message: string;
}

export type ServiceHeader =
  | Upload
  | ReceiptMsg
  | SchemaReq
  | SchemaReply
  | Probe
  | ProbeReply
  | QueryReq
  | QueryStatus
  | Answer
  | ReshareReq
  | ReshareRoot
  | ReshareSig
  | Leave
  | Resize
  | ResizeAck
  | QueryTextsReq
  | QueryTextsReply
  | ErrorMsg;

export interface ServiceMessage {
  header: ServiceHeader;
  body: Uint8Array;
}

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export function encodeMessage(header: ServiceHeader, body: Uint8Array = new Uint8Array(0)) {
  const h = enc.encode(JSON.stringify(header));
  if (h.length > MAX_HEADER_BYTES)
    throw new ProtocolError(
      `service message ${header.t}: header of ${h.length} bytes is too large`,
    );
  const out = new Uint8Array(5 + h.length + body.length);
  out[0] = SERVICE_VERSION;
  new DataView(out.buffer).setUint32(1, h.length, false);
  out.set(h, 5);
  out.set(body, 5 + h.length);
  return out;
}

const HEX64 = /^[0-9a-f]{64}$/;
const REQ = /^[0-9a-f]{8,64}$/;

/** Parses and validates a message; throws ProtocolError naming what is wrong (never the data). */
export function decodeMessage(bytes: Uint8Array): ServiceMessage {
  if (bytes.length < 5)
    throw new ProtocolError(`service message: ${bytes.length} bytes is too short`);
  if (bytes[0] !== SERVICE_VERSION)
    throw new ProtocolError(`service message: unknown version ${bytes[0]}`);
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1, false);
  if (len > MAX_HEADER_BYTES || 5 + len > bytes.length)
    throw new ProtocolError(`service message: header length ${len} is out of range`);
  let raw: unknown;
  try {
    raw = JSON.parse(dec.decode(bytes.subarray(5, 5 + len)));
  } catch {
    throw new ProtocolError('service message: header is not UTF-8 JSON');
  }
  const header = checkHeader(raw);
  return { header, body: bytes.subarray(5 + len) };
}

function checkHeader(raw: unknown): ServiceHeader {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ProtocolError('service message: header is not an object');
  const h = raw as Record<string, unknown>;
  const t = h.t;
  const bad = (field: string): never => {
    throw new ProtocolError(`service message ${String(t).slice(0, 20)}: field ${field} is invalid`);
  };
  const str = (k: string, re?: RegExp, max = 256): string => {
    const v = h[k];
    if (typeof v !== 'string' || v.length > max || (re && !re.test(v))) bad(k);
    return v as string;
  };
  const int = (k: string, max: number): number => {
    const v = h[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) bad(k);
    return v as number;
  };
  const req = str('req', REQ);
  switch (t) {
    case 'upload':
      return {
        t,
        req,
        datasetId: str('datasetId', HEX64),
        version: int('version', 0xffffffff),
        memberIndex: int('memberIndex', 0xffff),
        meta: metaOf(h.meta, bad),
      };
    case 'receipt': {
      const r = h.receipt;
      if (typeof r !== 'object' || r === null) bad('receipt');
      const o = r as Record<string, unknown>;
      if (
        typeof o.datasetId !== 'string' ||
        typeof o.merkleRoot !== 'string' ||
        typeof o.nodePublicKey !== 'string' ||
        typeof o.signature !== 'string' ||
        typeof o.version !== 'number' ||
        typeof o.memberIndex !== 'number'
      )
        bad('receipt');
      return {
        t,
        req,
        receipt: {
          datasetId: o.datasetId as string,
          version: o.version as number,
          memberIndex: o.memberIndex as number,
          merkleRoot: o.merkleRoot as string,
          nodePublicKey: o.nodePublicKey as string,
          signature: o.signature as string,
        },
      };
    }
    case 'schema':
    case 'probe':
      return { t, req, datasetId: str('datasetId', HEX64) };
    case 'schema-reply':
      return {
        t,
        req,
        datasetId: str('datasetId', HEX64),
        schema: str('schema', undefined, 60_000),
      };
    case 'probe-reply': {
      if (typeof h.intact !== 'boolean') bad('intact');
      return {
        t,
        req,
        datasetId: str('datasetId', HEX64),
        version: int('version', 0xffffffff),
        root: str('root', HEX64),
        intact: h.intact as boolean,
        ...(h.detail !== undefined ? { detail: str('detail', undefined, 500) } : {}),
      };
    }
    case 'query':
      return {
        t,
        req,
        queryId: str('queryId', /^[0-9]{1,40}$/),
        text: str('text', undefined, MAX_QUERY_CHARS),
      };
    case 'query-status': {
      const state = h.state;
      if (state !== 'computing' && state !== 'refused' && state !== 'failed') bad('state');
      const fraction = h.fraction;
      if (
        fraction !== undefined &&
        (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1))
      )
        bad('fraction');
      return {
        t,
        req,
        queryId: str('queryId', /^[0-9]{1,40}$/),
        state: state as QueryStatus['state'],
        ...(h.code !== undefined ? { code: str('code', /^[A-Z_]{1,40}$/) } : {}),
        ...(h.message !== undefined ? { message: str('message', undefined, 1000) } : {}),
        ...(fraction !== undefined ? { fraction: fraction as number } : {}),
      };
    }
    case 'answer':
      return {
        t,
        req,
        queryId: str('queryId', /^[0-9]{1,40}$/),
        memberIndex: int('memberIndex', 0xffff),
      };
    case 'reshare': {
      const keys = h.committee;
      if (!Array.isArray(keys) || keys.length < 3 || keys.length > 64) bad('committee');
      const committee = (keys as unknown[]).map((k) => {
        if (typeof k !== 'string' || !/^0[23][0-9a-f]{64}$/.test(k)) bad('committee');
        return k as string;
      });
      const sl = h.slots;
      if (!Array.isArray(sl) || sl.length > committee.length) bad('slots');
      const slots = (sl as unknown[]).map((x) => {
        if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x >= committee.length)
          bad('slots');
        return x as number;
      });
      const cols = h.columns;
      if (!Array.isArray(cols) || cols.length < 1 || cols.length > 1024) bad('columns');
      const columns = (cols as unknown[]).map((c) => {
        if (typeof c !== 'string' || c.length === 0 || c.length > 200) bad('columns');
        return c as string;
      });
      return {
        t,
        req,
        datasetId: str('datasetId', HEX64),
        fromVersion: int('fromVersion', 0xfffffffe),
        committee,
        slots,
        meta: metaOf(h.meta, bad),
        columns,
        rows: int('rows', 1 << 24),
        ...(h.ownerProof === undefined
          ? {}
          : { ownerProof: str('ownerProof', /^0x[0-9a-f]{130}$/) }),
      };
    }
    case 'resize-ack':
      return { t, req, datasetId: str('datasetId', HEX64) };
    case 'resize':
      return {
        t,
        req,
        datasetId: str('datasetId', HEX64),
        fromVersion: int('fromVersion', 0xfffffffe),
        size: int('size', 64),
        threshold: int('threshold', 31),
        proof: str('proof', /^0x[0-9a-f]{130}$/),
      };
    case 'reshare-root':
      return {
        t,
        req,
        datasetId: str('datasetId', HEX64),
        toVersion: int('toVersion', 0xffffffff),
        memberIndex: int('memberIndex', 63),
        root: str('root', HEX64),
      };
    case 'reshare-sig':
      return {
        t,
        req,
        datasetId: str('datasetId', HEX64),
        toVersion: int('toVersion', 0xffffffff),
        memberIndex: int('memberIndex', 63),
        signature: str('signature', /^0x[0-9a-f]{130}$/),
      };
    case 'leave':
      return h.datasetId === undefined
        ? { t, req }
        : { t, req, datasetId: str('datasetId', HEX64) };
    case 'query-texts': {
      const ids = h.queryIds;
      if (!Array.isArray(ids) || ids.length < 1 || ids.length > MAX_TEXTS_PER_REQUEST)
        bad('queryIds');
      return {
        t,
        req,
        datasetId: str('datasetId', HEX64),
        queryIds: (ids as unknown[]).map((q) => {
          if (typeof q !== 'string' || !/^[0-9]{1,40}$/.test(q)) bad('queryIds');
          return q as string;
        }),
        proof: str('proof', /^0x[0-9a-f]{130}$/),
      };
    }
    case 'query-texts-reply': {
      const texts = h.texts;
      if (!Array.isArray(texts) || texts.length > MAX_TEXTS_PER_REQUEST) bad('texts');
      return {
        t,
        req,
        datasetId: str('datasetId', HEX64),
        texts: (texts as unknown[]).map((x) => {
          const o = x as Record<string, unknown> | null;
          if (
            typeof o !== 'object' ||
            o === null ||
            typeof o.queryId !== 'string' ||
            !/^[0-9]{1,40}$/.test(o.queryId) ||
            typeof o.text !== 'string' ||
            o.text.length > MAX_QUERY_CHARS
          )
            bad('texts');
          return { queryId: o!.queryId as string, text: o!.text as string };
        }),
      };
    }
    case 'error':
      return {
        t,
        req,
        code: str('code', /^[A-Z_]{1,40}$/),
        message: str('message', undefined, 1000),
      };
    default:
      throw new ProtocolError(
        `service message: unknown type ${JSON.stringify(String(t).slice(0, 20))}`,
      );
  }
}

function metaOf(meta: unknown, bad: (field: string) => never): Record<string, string | number> {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) bad('meta');
  const m: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(meta as Record<string, unknown>)) {
    if (k.length > 64 || (typeof v !== 'string' && typeof v !== 'number')) bad(`meta.${k}`);
    m[k] = v as string | number;
  }
  return m;
}

export function newRequestId(): string {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
