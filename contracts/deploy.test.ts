/**
 * The deployment CLI as a real deployment would run it (port 18549): RPC URL, key and parameters
 * from the environment, addresses printed as JSON; missing or malformed settings refuse to run.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPublicClient, http, type Address } from 'viem';
import { ConfideAbi } from '../src/chain/generated/contracts';
import { ANVIL_DEV_KEY, startAnvil, type AnvilHandle } from '../scripts/anvil';

let anvil: AnvilHandle;
beforeAll(async () => {
  anvil = await startAnvil({ port: 18549 });
});
afterAll(async () => {
  await anvil?.stop();
});

function deployCli(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/deploy.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

it('deploys with settings from the environment and prints the addresses', async () => {
  const r = deployCli({
    RPC_URL: anvil.rpcUrl,
    DEPLOYER_PRIVATE_KEY: ANVIL_DEV_KEY,
    CONFIDE_MIN_DEPOSIT_WEI: '12345',
    CONFIDE_MIN_FEE_WEI: '678',
    CONFIDE_WITHDRAW_DELAY_S: '42',
    CONFIDE_QUERY_TIMEOUT_S: '99',
    CONFIDE_REPORTER_BPS: '2500',
  });
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    chainId: number;
    confide: Address;
    deployer: Address;
  };
  expect(out.chainId).toBe(31337);
  expect(out.deployer).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
  const pub = createPublicClient({ transport: http(anvil.rpcUrl) });
  const read = (
    functionName: 'minDeposit' | 'minFee' | 'withdrawDelay' | 'queryTimeout' | 'reporterBps',
  ) => pub.readContract({ address: out.confide, abi: ConfideAbi, functionName });
  expect(await read('minDeposit')).toBe(12345n);
  expect(await read('minFee')).toBe(678n);
  expect(await read('withdrawDelay')).toBe(42n);
  expect(await read('queryTimeout')).toBe(99n);
  expect(await read('reporterBps')).toBe(2500);
});

it('refuses to run without a valid RPC URL and key, or with malformed parameters', () => {
  const noKey = deployCli({ RPC_URL: anvil.rpcUrl });
  expect(noKey.status).toBe(2);
  expect(noKey.stderr).toContain('set RPC_URL and DEPLOYER_PRIVATE_KEY');
  const badKey = deployCli({ RPC_URL: anvil.rpcUrl, DEPLOYER_PRIVATE_KEY: '0x1234' });
  expect(badKey.status).toBe(2);
  const badParam = deployCli({
    RPC_URL: anvil.rpcUrl,
    DEPLOYER_PRIVATE_KEY: ANVIL_DEV_KEY,
    CONFIDE_MIN_FEE_WEI: '1e18',
  });
  expect(badParam.status).not.toBe(0);
  expect(badParam.stderr).toContain(
    'CONFIDE_MIN_FEE_WEI must be a non-negative integer, got "1e18"',
  );
});
