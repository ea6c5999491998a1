/**
 * Pure tests of the chain helpers (no anvil): config parsing with garbage, node-key signatures
 * cross-checked against viem's independent implementation, hashes the contract recomputes.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, keccak256, recoverAddress, type Address, type Hex } from 'viem';
import { privateKeyToAccount, sign } from 'viem/accounts';
import { chainConfigFromEnv } from './config';
import {
  chainQueryHash,
  datasetIdFor,
  grantPolicy,
  kindsMask,
  kindsOf,
  members,
  membersHash,
  packedAddressesHash,
} from './confide';
import { ChainError } from './errors';
import { compressedPublicKey, keyAddress, randomNodeKey, signDigest } from './keys';
import { deriveDatasetId } from '../storage/placement';

const GOOD = {
  VITE_CHAIN_RPC_URL: 'http://127.0.0.1:8545',
  VITE_CHAIN_ID: '31337',
  VITE_CONFIDE_ADDRESS: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
};

describe('chainConfigFromEnv', () => {
  it('parses a complete config', () => {
    expect(chainConfigFromEnv(GOOD)).toEqual({
      rpcUrl: GOOD.VITE_CHAIN_RPC_URL,
      chainId: 31337,
      confide: GOOD.VITE_CONFIDE_ADDRESS,
    });
    expect(chainConfigFromEnv({ ...GOOD, VITE_CHAIN_POLL_MS: '2000' }).pollMs).toBe(2000);
  });
  it.each([
    [{ VITE_CHAIN_RPC_URL: undefined }, 'VITE_CHAIN_RPC_URL is not set'],
    [{ VITE_CHAIN_RPC_URL: 'ftp://x' }, 'VITE_CHAIN_RPC_URL must be an http(s) URL'],
    [{ VITE_CHAIN_ID: '0' }, 'VITE_CHAIN_ID must be a positive integer'],
    [{ VITE_CHAIN_ID: 'abc' }, 'VITE_CHAIN_ID must be a positive integer'],
    [{ VITE_CONFIDE_ADDRESS: '0x1234' }, 'VITE_CONFIDE_ADDRESS is not an address'],
    [{ VITE_CONFIDE_ADDRESS: '' }, 'VITE_CONFIDE_ADDRESS is not set'],
    [{ VITE_CHAIN_POLL_MS: '10' }, 'VITE_CHAIN_POLL_MS must be a whole number of milliseconds'],
    [{ VITE_CHAIN_POLL_MS: '1.5s' }, 'VITE_CHAIN_POLL_MS must be a whole number of milliseconds'],
  ])('rejects %j with a message naming the variable', (patch, message) => {
    const env = { ...GOOD, ...patch };
    expect(() => chainConfigFromEnv(env)).toThrow(message);
    try {
      chainConfigFromEnv(env);
    } catch (e) {
      expect(e).toBeInstanceOf(ChainError);
      expect((e as ChainError).code).toBe('CHAIN_CONFIG_MISSING');
    }
  });
});

describe('node keys', () => {
  it('signs digests exactly like viem (RFC 6979, low-s, v 27/28) and recovers to the key address', async () => {
    for (let i = 0; i < 20; i++) {
      const k = randomNodeKey();
      const digest = keccak256(bytesToHex(k));
      const sig = signDigest(k, digest);
      expect(sig).toBe(await sign({ hash: digest, privateKey: bytesToHex(k), to: 'hex' }));
      expect(
        BigInt(`0x${sig.slice(66, 130)}`) <=
          0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n,
      ).toBe(true);
      const addr = keyAddress(compressedPublicKey(k));
      expect(addr).toBe(privateKeyToAccount(bytesToHex(k)).address);
      expect(await recoverAddress({ hash: digest, signature: sig })).toBe(addr);
    }
  });
  it.each([
    ['0x', 'expected a 33- or 65-byte'],
    [`0x02${'00'.repeat(31)}`, 'expected a 33- or 65-byte'],
    [`0x05${'11'.repeat(32)}`, 'not a point on secp256k1'],
    [`0x02${'ff'.repeat(32)}`, 'not a point on secp256k1'],
  ])('keyAddress rejects %s', (bad, message) => {
    expect(() => keyAddress(bad as Hex)).toThrow(message);
  });
  it('signDigest rejects digests that are not 32 bytes', () => {
    expect(() => signDigest(randomNodeKey(), '0x1234')).toThrow('digest must be 32 bytes, got 2');
  });
});

describe('hashes the contract recomputes', () => {
  it('dataset ids match storage deriveDatasetId', () => {
    const owner = '0x00000000000000000000000000000000000000aa' as Address;
    for (const salt of ['', 'a', 'cohort-2026', 'ünïcode ✓']) {
      expect(datasetIdFor(owner, salt)).toBe(`0x${deriveDatasetId(owner, salt)}`);
    }
  });
  it('committee hashes are keccak256 of packed 32-byte words', () => {
    const c = [
      '0x00000000000000000000000000000000000000aa',
      '0x00000000000000000000000000000000000000bb',
    ] as Address[];
    expect(packedAddressesHash(c)).toBe(keccak256(`0x${'0'.repeat(62)}aa${'0'.repeat(62)}bb`));
    const m = members(c, [keccak256('0x01'), keccak256('0x02')]);
    expect(m.partitionsHash).toBe(
      keccak256(`0x${keccak256('0x01').slice(2)}${keccak256('0x02').slice(2)}`),
    );
    expect(membersHash(m)).toBe(
      keccak256(`0x${packedAddressesHash(c).slice(2)}${m.partitionsHash.slice(2)}`),
    );
  });
  it('query hashes and kind masks', () => {
    expect(chainQueryHash('AB'.repeat(32))).toBe(`0x${'ab'.repeat(32)}`);
    expect(() => chainQueryHash('0x1234')).toThrow('expected 32 bytes of hex');
    expect(() => chainQueryHash('zz'.repeat(32))).toThrow('expected 32 bytes of hex');
    expect(kindsMask(['count', 'avg'])).toBe(0b101);
    expect(kindsMask([])).toBe(0);
    expect(kindsMask(['compare_columns'])).toBe(1 << 12);
    expect(kindsOf(kindsMask(['filter', 'count', 'group_by']))).toEqual([
      'count',
      'filter',
      'group_by',
    ]);
    expect(grantPolicy({ kinds: 0b101, minCohort: 7 })).toEqual({
      allowedKinds: ['count', 'avg'],
      minCohort: 7,
    });
    expect(() => kindsMask(['mean'])).toThrow('unknown query kind "mean"');
  });
});
