/**
 * Deploy the Confide contract suite. Used by `npm start` (local anvil, dev key), the tests and a real
 * deployment: `RPC_URL=... DEPLOYER_PRIVATE_KEY=0x... tsx scripts/deploy.ts` prints the addresses as
 * JSON. Parameters by environment: CONFIDE_MIN_DEPOSIT_WEI, CONFIDE_MIN_FEE_WEI,
 * CONFIDE_WITHDRAW_DELAY_S, CONFIDE_QUERY_TIMEOUT_S, CONFIDE_REPORTER_BPS.
 */
import { fileURLToPath } from 'node:url';
import {
  createPublicClient,
  createWalletClient,
  http,
  parseEther,
  type Address,
  type Hex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { compileContracts } from './compile-contracts';

export interface DeployParams {
  minDeposit: bigint;
  minFee: bigint;
  withdrawDelay: bigint;
  queryTimeout: bigint;
  reporterBps: number;
}

export const DEFAULT_PARAMS: DeployParams = {
  minDeposit: parseEther('0.1'),
  minFee: parseEther('0.001'),
  withdrawDelay: 86_400n,
  queryTimeout: 3_600n,
  reporterBps: 5_000,
};

export interface Deployment {
  chainId: number;
  confide: Address;
  deployer: Address;
  blockNumber: bigint;
  params: DeployParams;
}

export async function deployAll(opts: {
  rpcUrl: string;
  privateKey: Hex;
  params?: Partial<DeployParams>;
}): Promise<Deployment> {
  compileContracts();
  // Imported after compiling so a fresh checkout has the generated module.
  const { Confide } = await import('../src/chain/generated/contracts');
  const params = { ...DEFAULT_PARAMS, ...opts.params };
  const account = privateKeyToAccount(opts.privateKey);
  const transport = http(opts.rpcUrl);
  const pub = createPublicClient({ transport });
  const chainId = await pub.getChainId();
  const wallet = createWalletClient({ account, transport });
  const chain = {
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [opts.rpcUrl] } },
  } as const;
  const hash = await wallet.deployContract({
    abi: Confide.abi,
    bytecode: Confide.bytecode,
    args: [
      params.minDeposit,
      params.minFee,
      params.withdrawDelay,
      params.queryTimeout,
      params.reporterBps,
    ],
    chain,
  });
  const receipt = await pub.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success' || !receipt.contractAddress) {
    throw new Error(`deployAll: Confide deployment failed in tx ${hash}`);
  }
  return {
    chainId,
    confide: receipt.contractAddress,
    deployer: account.address,
    blockNumber: receipt.blockNumber,
    params,
  };
}

function envBig(name: string): bigint | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v))
    throw new Error(`deploy: ${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return BigInt(v);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rpcUrl = process.env.RPC_URL;
  const privateKey = process.env.DEPLOYER_PRIVATE_KEY;
  if (!rpcUrl || !privateKey || !/^0x[0-9a-fA-F]{64}$/.test(privateKey)) {
    console.error('deploy: set RPC_URL and DEPLOYER_PRIVATE_KEY (0x + 64 hex digits)');
    process.exit(2);
  }
  const params: Partial<DeployParams> = {};
  const md = envBig('CONFIDE_MIN_DEPOSIT_WEI');
  if (md !== undefined) params.minDeposit = md;
  const mf = envBig('CONFIDE_MIN_FEE_WEI');
  if (mf !== undefined) params.minFee = mf;
  const wd = envBig('CONFIDE_WITHDRAW_DELAY_S');
  if (wd !== undefined) params.withdrawDelay = wd;
  const qt = envBig('CONFIDE_QUERY_TIMEOUT_S');
  if (qt !== undefined) params.queryTimeout = qt;
  const rb = envBig('CONFIDE_REPORTER_BPS');
  if (rb !== undefined) params.reporterBps = Number(rb);
  const d = await deployAll({ rpcUrl, privateKey: privateKey as Hex, params });
  console.log(
    JSON.stringify({
      chainId: d.chainId,
      confide: d.confide,
      deployer: d.deployer,
      blockNumber: d.blockNumber.toString(),
    }),
  );
}
