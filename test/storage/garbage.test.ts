// Decoders of untrusted input never throw anything but a coded StorageError (HABITS: garbage tables).
import { secp256k1 } from '@noble/curves/secp256k1.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openShareBundle, sealShareBundle } from '../../src/storage/bundle';
import { parseCsv } from '../../src/storage/csv';
import { StorageError } from '../../src/storage/errors';
import { inferSchema, validateAndEncode } from '../../src/storage/schema';
import { parseManifest } from '../../src/storage/store';
import { verifyReceipt, type Receipt } from '../../src/storage/receipt';
import { DS1, seededShares } from './helpers';

const sk = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
const pk = secp256k1.getPublicKey(sk, true);
const ctx = { datasetId: DS1, version: 1, memberIndex: 0 };

async function onlyStorageErrors(fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof StorageError)) throw new Error(`non-StorageError thrown: ${String(e)}`);
  }
}

describe('garbage in, coded errors out', () => {
  it('share bundles: random bytes and single-byte mutations', async () => {
    const sealed = await sealShareBundle(
      { ...ctx, chunkSize: 16, columns: [{ name: 'x', shares: seededShares(40, 1) }] },
      pk,
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (b) =>
        onlyStorageErrors(() => openShareBundle(b, sk, ctx)),
      ),
      { numRuns: 100 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.nat(sealed.length - 1),
        fc.integer({ min: 1, max: 255 }),
        async (i, x) => {
          const m = sealed.slice();
          m[i] = m[i]! ^ x;
          let threw = false;
          try {
            await openShareBundle(m, sk, ctx);
          } catch (e) {
            threw = true;
            expect(e).toBeInstanceOf(StorageError);
          }
          expect(threw).toBe(true); // every byte is authenticated or checked
        },
      ),
      { numRuns: 150 },
    );
  });

  it('manifests: arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(() => parseManifest(v, DS1)).toThrow(StorageError);
      }),
      { numRuns: 200 },
    );
  });

  it('CSV text: arbitrary strings parse or fail with a code; validation never throws on cells', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({
          maxLength: 400,
          unit: fc.constantFrom(
            'a',
            '1',
            '-',
            '.',
            ',',
            ';',
            '"',
            '\n',
            '\r',
            '=',
            ' ',
            '2',
            'é',
            '\t',
          ),
        }),
        async (text) =>
          onlyStorageErrors(() => {
            const csv = parseCsv(text);
            const r = validateAndEncode(csv, inferSchema(csv).schema);
            expect(r.totalRows).toBe(r.acceptedRows + r.rejectedRows);
          }),
      ),
      { numRuns: 300 },
    );
  });

  it('receipts: malformed fields', () => {
    const bad: Partial<Receipt>[] = [
      {
        datasetId: 'zz',
        version: 1,
        memberIndex: 0,
        merkleRoot: '00'.repeat(32),
        nodePublicKey: '02'.repeat(33),
        signature: '00'.repeat(65),
      },
      {
        datasetId: DS1,
        version: 0,
        memberIndex: 0,
        merkleRoot: '00'.repeat(32),
        nodePublicKey: '02'.repeat(33),
        signature: '00'.repeat(65),
      },
      {
        datasetId: DS1,
        version: 1,
        memberIndex: 0,
        merkleRoot: '00',
        nodePublicKey: '02'.repeat(33),
        signature: '00'.repeat(65),
      },
      {
        datasetId: DS1,
        version: 1,
        memberIndex: 0,
        merkleRoot: '00'.repeat(32),
        nodePublicKey: '02'.repeat(33),
        signature: '00'.repeat(64) + '1b',
      },
    ];
    for (const r of bad) expect(() => verifyReceipt(r as Receipt)).toThrow(StorageError);
  });
});
