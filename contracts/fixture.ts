/**
 * Test fixture for the contract tests: a real anvil on the given port, Confide deployed with test
 * parameters, funded local accounts, and helpers to send transactions, decode events and assert
 * custom-error reverts.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createTestClient,
  createWalletClient,
  decodeEventLog,
  http,
  parseEther,
  type Address,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { Confide, ReentrantReceiver } from '../src/chain/generated/contracts';
import type { ConfideWallet } from '../src/chain/confide';
import { startAnvil, ANVIL_DEV_KEY, type AnvilHandle } from '../scripts/anvil';
import { deployAll, type DeployParams } from '../scripts/deploy';

export const TEST_PARAMS: DeployParams = {
  minDeposit: parseEther('1'),
  minFee: parseEther('0.01'),
  withdrawDelay: 1_000n,
  queryTimeout: 600n,
  reporterBps: 5_000,
};

export interface DecodedEvent {
  eventName: string;
  args: Record<string, unknown>;
}

export interface Fixture {
  anvil: AnvilHandle;
  pub: PublicClient;
  test: ReturnType<typeof createTestClient>;
  address: Address;
  chainId: bigint;
  wallets: ConfideWallet[];
  newWallet(balance?: bigint): Promise<ConfideWallet>;
  /** Send `fn(args)` from `w`; returns the receipt, the decoded Confide events and the gas paid in wei. */
  tx(w: ConfideWallet, fn: string, args: readonly unknown[], value?: bigint): Promise<TxResult>;
  read<T>(fn: string, args?: readonly unknown[]): Promise<T>;
  /** Assert that `fn(args)` from `w` reverts with the custom error `name` (and `args` if given). */
  expectRevert(
    w: ConfideWallet,
    fn: string,
    args: readonly unknown[],
    name: string,
    errArgs?: readonly unknown[],
    value?: bigint,
  ): Promise<void>;
  increaseTime(seconds: number): Promise<void>;
  now(): Promise<bigint>;
  snapshot(): Promise<Hex>;
  revertTo(id: Hex): Promise<void>;
  stop(): Promise<void>;
}

export interface TxResult {
  receipt: TransactionReceipt;
  events: DecodedEvent[];
  gasCost: bigint;
}

export function decodeEvents(receipt: TransactionReceipt, address: Address): DecodedEvent[] {
  const out: DecodedEvent[] = [];
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address.toLowerCase()) continue;
    const ev = decodeEventLog({
      abi: Confide.abi,
      data: log.data,
      topics: log.topics as [Hex, ...Hex[]],
    });
    out.push({ eventName: ev.eventName, args: (ev.args ?? {}) as Record<string, unknown> });
  }
  return out;
}

export async function setupFixture(port: number, nWallets = 8): Promise<Fixture> {
  const anvil = await startAnvil({ port });
  try {
    const transport = http(anvil.rpcUrl);
    const chain = { ...foundry, rpcUrls: { default: { http: [anvil.rpcUrl] } } };
    const pub = createPublicClient({ chain, transport }) as PublicClient;
    const test = createTestClient({ chain, mode: 'anvil', transport });
    const dep = await deployAll({
      rpcUrl: anvil.rpcUrl,
      privateKey: ANVIL_DEV_KEY,
      params: TEST_PARAMS,
    });
    const address = dep.confide;
    const newWallet = async (balance = parseEther('1000')): Promise<ConfideWallet> => {
      const account = privateKeyToAccount(generatePrivateKey());
      await test.setBalance({ address: account.address, value: balance });
      return createWalletClient({ account, chain, transport });
    };
    const wallets: ConfideWallet[] = [];
    for (let i = 0; i < nWallets; i++) wallets.push(await newWallet());

    const tx = async (
      w: ConfideWallet,
      fn: string,
      args: readonly unknown[],
      value?: bigint,
    ): Promise<TxResult> => {
      const req = {
        address,
        abi: Confide.abi,
        functionName: fn,
        args,
        account: w.account,
        chain,
        ...(value !== undefined ? { value } : {}),
      };
      const hash = await w.writeContract(
        req as unknown as Parameters<ConfideWallet['writeContract']>[0],
      );
      const receipt = await pub.waitForTransactionReceipt({ hash });
      if (receipt.status !== 'success') throw new Error(`${fn} reverted in ${hash}`);
      return {
        receipt,
        events: decodeEvents(receipt, address),
        gasCost: receipt.gasUsed * receipt.effectiveGasPrice,
      };
    };
    const read = async <T>(fn: string, args: readonly unknown[] = []): Promise<T> =>
      (await pub.readContract({
        address,
        abi: Confide.abi,
        functionName: fn,
        args,
      } as unknown as Parameters<PublicClient['readContract']>[0])) as T;
    const expectRevert = async (
      w: ConfideWallet,
      fn: string,
      args: readonly unknown[],
      name: string,
      errArgs?: readonly unknown[],
      value?: bigint,
    ) => {
      try {
        await pub.simulateContract({
          address,
          abi: Confide.abi,
          functionName: fn,
          args,
          account: w.account,
          ...(value !== undefined ? { value } : {}),
        } as unknown as Parameters<PublicClient['simulateContract']>[0]);
      } catch (err) {
        const reverted =
          err instanceof BaseError
            ? err.walk((e) => e instanceof ContractFunctionRevertedError)
            : null;
        if (!(reverted instanceof ContractFunctionRevertedError))
          throw new Error(`${fn}: expected revert ${name}, got ${String(err)}`);
        const got = reverted.data?.errorName;
        if (got !== name)
          throw new Error(`${fn}: expected revert ${name}, got ${got ?? reverted.shortMessage}`);
        if (errArgs !== undefined) {
          const a = JSON.stringify(reverted.data?.args ?? [], (_k, v: unknown) =>
            typeof v === 'bigint' ? v.toString() : typeof v === 'string' ? v.toLowerCase() : v,
          );
          const b = JSON.stringify(errArgs, (_k, v: unknown) =>
            typeof v === 'bigint' ? v.toString() : typeof v === 'string' ? v.toLowerCase() : v,
          );
          if (a !== b) throw new Error(`${fn}: ${name} args ${a}, expected ${b}`);
        }
        return;
      }
      throw new Error(`${fn}: expected revert ${name}, but the call succeeded`);
    };
    return {
      anvil,
      pub,
      test,
      address,
      chainId: BigInt(dep.chainId),
      wallets,
      newWallet,
      tx,
      read,
      expectRevert,
      increaseTime: async (s) => {
        await test.increaseTime({ seconds: s });
        await test.mine({ blocks: 1 });
      },
      now: async () => (await pub.getBlock()).timestamp,
      snapshot: () => test.snapshot(),
      revertTo: (id) => test.revert({ id }),
      stop: () => anvil.stop(),
    };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}

/** Deploy the test-only ReentrantReceiver pointing at `target`. */
export async function deployAttacker(f: Fixture, w: ConfideWallet): Promise<Address> {
  const hash = await w.deployContract({
    abi: ReentrantReceiver.abi,
    bytecode: ReentrantReceiver.bytecode,
    args: [f.address],
    chain: w.chain,
    account: w.account,
  });
  const r = await f.pub.waitForTransactionReceipt({ hash });
  if (!r.contractAddress) throw new Error('attacker deployment failed');
  return r.contractAddress;
}
