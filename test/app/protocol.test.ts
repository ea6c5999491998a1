/**
 * The service protocol's decoder: valid messages round-trip; every malformed header is a
 * ProtocolError that names the message type and the field, never anything else.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  encodeMessage,
  ProtocolError,
  SERVICE_VERSION,
  type ServiceHeader,
} from '../../src/app/protocol';

const KEY = (b: number) => `02${b.toString(16).padStart(2, '0').repeat(32)}`;
const DS = 'ab'.repeat(32);
const REQ = '0123456789abcdef';

const plan = {
  t: 'reshare',
  req: REQ,
  datasetId: DS,
  fromVersion: 1,
  committee: [KEY(1), KEY(2), KEY(3), KEY(4), KEY(5)],
  slots: [2],
  meta: { name: 'cohort', threshold: 2, committee: 'x' },
  columns: ['age', 'sex'],
  rows: 2000,
} as const;
const root = {
  t: 'reshare-root',
  req: REQ,
  datasetId: DS,
  toVersion: 2,
  memberIndex: 3,
  root: 'cd'.repeat(32),
} as const;
const sig = {
  t: 'reshare-sig',
  req: REQ,
  datasetId: DS,
  toVersion: 2,
  memberIndex: 0,
  signature: `0x${'ef'.repeat(65)}`,
} as const;

function raw(header: unknown): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(5 + h.length);
  out[0] = SERVICE_VERSION;
  new DataView(out.buffer).setUint32(1, h.length, false);
  out.set(h, 5);
  return out;
}

const texts = {
  t: 'query-texts',
  req: REQ,
  datasetId: DS,
  queryIds: ['1', '22'],
  proof: `0x${'12'.repeat(65)}`,
} as const;
const textsReply = {
  t: 'query-texts-reply',
  req: REQ,
  datasetId: DS,
  texts: [{ queryId: '1', text: 'SELECT COUNT(*) FROM ds' }],
} as const;

describe('service protocol: re-sharing, leave and query-text messages', () => {
  it.each([
    plan,
    { ...plan, slots: [] },
    root,
    sig,
    { t: 'leave', req: REQ },
    { t: 'leave', req: REQ, datasetId: DS },
    texts,
    textsReply,
  ])('$t round-trips', (h) => {
    const m = decodeMessage(encodeMessage(h as unknown as ServiceHeader, new Uint8Array([7])));
    expect(m.header).toEqual(h);
    expect([...m.body]).toEqual([7]);
  });

  const bad: [string, unknown, RegExp][] = [
    [
      'committee too small',
      { ...plan, committee: plan.committee.slice(0, 2) },
      /reshare: field committee/,
    ],
    [
      'committee key not a point encoding',
      { ...plan, committee: [...plan.committee.slice(0, 4), `04${'11'.repeat(32)}`] },
      /field committee/,
    ],
    ['committee not an array', { ...plan, committee: 'a,b,c' }, /field committee/],
    ['slots not an array', { ...plan, slots: 2 }, /field slots/],
    ['slot out of range', { ...plan, slots: [5] }, /field slots/],
    ['slot not an integer', { ...plan, slots: [1.5] }, /field slots/],
    ['more slots than members', { ...plan, slots: [0, 1, 2, 3, 4, 0] }, /field slots/],
    ['empty column name', { ...plan, columns: [''] }, /field columns/],
    ['no columns', { ...plan, columns: [] }, /field columns/],
    ['rows negative', { ...plan, rows: -1 }, /field rows/],
    ['rows too many', { ...plan, rows: 2 ** 25 }, /field rows/],
    ['meta value an object', { ...plan, meta: { a: {} } }, /field meta\.a/],
    ['meta an array', { ...plan, meta: [] }, /field meta/],
    ['fromVersion a string', { ...plan, fromVersion: '1' }, /field fromVersion/],
    ['dataset id upper case', { ...plan, datasetId: DS.toUpperCase() }, /field datasetId/],
    ['root short', { ...root, root: 'cd' }, /reshare-root: field root/],
    ['member index too large', { ...root, memberIndex: 64 }, /field memberIndex/],
    ['toVersion missing', { ...root, toVersion: undefined }, /field toVersion/],
    ['signature short', { ...sig, signature: '0x1234' }, /reshare-sig: field signature/],
    ['signature without 0x', { ...sig, signature: 'ef'.repeat(65) }, /field signature/],
    ['leave without req', { t: 'leave' }, /leave: field req/],
    [
      'leave for a malformed dataset',
      { t: 'leave', req: REQ, datasetId: 'xyz' },
      /leave: field datasetId/,
    ],
    ['no query ids', { ...texts, queryIds: [] }, /query-texts: field queryIds/],
    ['query id not decimal', { ...texts, queryIds: ['0x1'] }, /field queryIds/],
    ['too many query ids', { ...texts, queryIds: Array(201).fill('1') }, /field queryIds/],
    ['proof short', { ...texts, proof: '0x12' }, /field proof/],
    [
      'reply text not a string',
      { ...textsReply, texts: [{ queryId: '1', text: 5 }] },
      /query-texts-reply: field texts/,
    ],
    [
      'reply text too long',
      { ...textsReply, texts: [{ queryId: '1', text: 'x'.repeat(20_001) }] },
      /field texts/,
    ],
    ['reply entry null', { ...textsReply, texts: [null] }, /field texts/],
    ['unknown type', { t: 'evict', req: REQ }, /unknown type "evict"/],
  ];
  it.each(bad)('%s → ProtocolError naming the field', (_, header, msg) => {
    let err: unknown;
    try {
      decodeMessage(raw(header));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toMatch(msg);
  });

  it('truncated, oversized and non-JSON frames', () => {
    const ok = encodeMessage(plan as unknown as ServiceHeader);
    for (const bytes of [
      ok.subarray(0, 3),
      ok.subarray(0, ok.length - 5),
      Uint8Array.of(9, 0, 0, 0, 0),
      Uint8Array.of(SERVICE_VERSION, 0xff, 0xff, 0xff, 0xff, 1, 2),
      Uint8Array.of(SERVICE_VERSION, 0, 0, 0, 2, 0xc3, 0x28),
    ])
      expect(() => decodeMessage(bytes)).toThrow(ProtocolError);
  });
});
