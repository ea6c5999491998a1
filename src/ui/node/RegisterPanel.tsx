/**
 * Registration of this node on chain, through the operator's wallet: the node key (kept in this
 * tab) signs the contract's registration digest, the wallet sends the deposit. Shows the node's
 * status, deposit and the fees it has earned; lets the operator start leaving.
 */
import { useEffect, useState } from 'react';
import { formatEther, parseEther, type Address } from 'viem';
import {
  claimFees,
  confideAbi,
  nodeEarnings,
  NodeStatus,
  registerNode,
  requestNodeLeave,
  withdraw,
  type NodeEarnings,
} from '../../chain/confide';
import type { NodeRuntime } from '../../node/runtime';
import { Alert, Badge, Button, Field, explainText, formatTime } from '../kit';
import { useAuditLog } from '../shared/audit';
import { useChainSetup, useWallet, WalletBar } from '../shared/chain';

type ChainNode = {
  operator: Address;
  status: number;
  deposit: bigint;
  leaveAt: bigint;
};

export function RegisterPanel({
  runtime,
  nodeAddress,
}: {
  runtime: NodeRuntime;
  nodeAddress: Address;
}) {
  const { cfg, pub } = useChainSetup();
  const w = useWallet();
  const [node, setNode] = useState<ChainNode>();
  const [minDeposit, setMinDeposit] = useState<bigint>();
  const [deposit, setDeposit] = useState('');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string }>();
  const [readError, setReadError] = useState<string>();
  const log = useAuditLog(pub, cfg.confide, 4000);
  const tick = log.entries.length;
  useEffect(() => {
    let live = true;
    Promise.all([
      pub.readContract({
        address: cfg.confide,
        abi: confideAbi,
        functionName: 'getNode',
        args: [nodeAddress],
      }),
      pub.readContract({ address: cfg.confide, abi: confideAbi, functionName: 'minDeposit' }),
    ]).then(
      ([n, d]) => {
        if (!live) return;
        setNode({
          operator: n.operator,
          status: n.status,
          deposit: n.deposit,
          leaveAt: BigInt(n.leaveAt),
        });
        setMinDeposit(d);
        setReadError(undefined);
      },
      (e: unknown) => live && setReadError(explainText(e)),
    );
    return () => {
      live = false;
    };
  }, [pub, cfg.confide, nodeAddress, tick]);

  const [earnings, setEarnings] = useState<NodeEarnings>();
  useEffect(() => {
    let live = true;
    nodeEarnings(pub, cfg.confide, nodeAddress).then(
      (e) => live && setEarnings(e),
      () => undefined, // shown as unknown; the registration read reports chain trouble
    );
    return () => {
      live = false;
    };
  }, [pub, cfg.confide, nodeAddress, tick]);
  const posted = log.entries.filter(
    (e) =>
      e.eventName === 'ResultPosted' &&
      String(e.args.nodeId).toLowerCase() === nodeAddress.toLowerCase(),
  ).length;

  const status = node ? (NodeStatus[node.status] ?? 'Unknown') : undefined;
  const registered = node !== undefined && node.status !== 0;
  const isOperator =
    w.ctx !== null &&
    node !== undefined &&
    node.operator.toLowerCase() === w.ctx.account.toLowerCase();
  const depositText = deposit || (minDeposit !== undefined ? formatEther(minDeposit) : '');

  async function register() {
    if (!w.ctx) return;
    setMsg(undefined);
    let value: bigint;
    try {
      value = parseEther(depositText);
    } catch {
      return setMsg({ ok: false, text: `The deposit must be an amount of ETH, e.g. 1 or 0.5.` });
    }
    if (minDeposit !== undefined && value < minDeposit)
      return setMsg({
        ok: false,
        text: `The deposit must be at least ${formatEther(minDeposit)} ETH.`,
      });
    const identity = runtime.identity as { secretKey?: () => Uint8Array };
    if (typeof identity.secretKey !== 'function')
      return setMsg({
        ok: false,
        text: 'This version of the node cannot sign its registration. Update the app and reload.',
      });
    setBusy(true);
    const sk = identity.secretKey();
    try {
      const wallet = await w.ctx.wallet();
      await registerNode(wallet, pub, cfg.confide, sk, value);
      setMsg({ ok: true, text: 'Registered: committees can now pick this node.' });
      log.refresh();
    } catch (e) {
      setMsg({ ok: false, text: explainText(e) });
    } finally {
      sk.fill(0);
      setBusy(false);
    }
  }

  /** Claims with the node's own key (anyone may claim; the fee goes to the operator's credit). */
  async function claim() {
    if (!earnings?.claimable.length) return;
    setBusy(true);
    setMsg(undefined);
    try {
      await claimFees(
        runtime.service.nodeWallet(),
        pub,
        cfg.confide,
        nodeAddress,
        earnings.claimable.map((c) => c.queryId),
      );
      setMsg({
        ok: true,
        text: `Claimed ${formatEther(earnings.claimableTotal)} ETH for the operator.`,
      });
      log.refresh();
    } catch (e) {
      setMsg({ ok: false, text: explainText(e) });
    } finally {
      setBusy(false);
    }
  }

  /** Withdraws the operator's credit: with the node key when it is its own operator. */
  async function pull() {
    if (!earnings) return;
    setBusy(true);
    setMsg(undefined);
    try {
      const own = earnings.operator.toLowerCase() === nodeAddress.toLowerCase();
      const wallet = own ? runtime.service.nodeWallet() : await w.ctx!.wallet();
      await withdraw(wallet, pub, cfg.confide);
      setMsg({ ok: true, text: `Withdrew ${formatEther(earnings.credit)} ETH to the operator.` });
      log.refresh();
    } catch (e) {
      setMsg({ ok: false, text: explainText(e) });
    } finally {
      setBusy(false);
    }
  }
  const canWithdraw =
    earnings !== undefined &&
    earnings.credit > 0n &&
    (earnings.operator.toLowerCase() === nodeAddress.toLowerCase() || isOperator);

  async function requestLeave() {
    if (!w.ctx) return;
    setBusy(true);
    setMsg(undefined);
    try {
      await requestNodeLeave(await w.ctx.wallet(), pub, cfg.confide, nodeAddress);
      setMsg({
        ok: true,
        text: 'Leaving: the deposit is returned after the waiting period, if no misbehaviour is proven.',
      });
      log.refresh();
    } catch (e) {
      setMsg({ ok: false, text: explainText(e) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="stack-sm" data-testid="node-registration">
      {readError && (
        <Alert tone="warning" next="Check that the chain is running (npm start), then reload.">
          The registration could not be read: {readError}
        </Alert>
      )}
      <div className="row-center">
        <span className="small muted">Status on chain:</span>
        {status === undefined ? (
          <span className="small muted">reading…</span>
        ) : (
          <Badge
            tone={status === 'Active' ? 'success' : status === 'Slashed' ? 'danger' : 'warning'}
            dot
          >
            {registered ? status : 'not registered'}
          </Badge>
        )}
        {registered && node && (
          <span className="small muted">
            deposit {formatEther(node.deposit)} ETH · operator <code>{node.operator}</code>
            {node.status === 2 && ` · deposit available ${formatTime(node.leaveAt)}`}
          </span>
        )}
      </div>
      {registered && (
        <div className="row-center">
          <p className="small" data-testid="node-earnings">
            Result shares committed: {posted} · fees to claim:{' '}
            {earnings ? `${formatEther(earnings.claimableTotal)} ETH` : '…'} · claimed:{' '}
            {earnings ? `${formatEther(earnings.claimed)} ETH` : '…'} · operator’s credit:{' '}
            {earnings ? `${formatEther(earnings.credit)} ETH` : '…'}
          </p>
          {earnings && earnings.claimable.length > 0 && (
            <Button size="sm" busy={busy} onClick={() => void claim()} data-testid="node-claim">
              Claim fees of {earnings.claimable.length} quer
              {earnings.claimable.length === 1 ? 'y' : 'ies'}
            </Button>
          )}
          {canWithdraw && (
            <Button size="sm" busy={busy} onClick={() => void pull()} data-testid="node-withdraw">
              Withdraw to the operator
            </Button>
          )}
        </div>
      )}
      {(!registered || (node?.status === 1 && !isOperator)) && !w.ctx && (
        <>
          <p className="small muted">
            {registered
              ? 'Connect the operator wallet to manage this node.'
              : 'Connect the wallet that will operate this node and pay its deposit.'}
          </p>
          {w.panel}
        </>
      )}
      {w.ctx && <WalletBar ctx={w.ctx} onDisconnect={w.disconnect} />}
      {!registered && w.ctx && (
        <div className="row">
          <Field
            label="Deposit (ETH)"
            hint={
              minDeposit !== undefined
                ? `At least ${formatEther(minDeposit)} ETH.`
                : 'Reading the minimum…'
            }
          >
            <input
              className="input"
              inputMode="decimal"
              value={depositText}
              onChange={(e) => setDeposit(e.target.value)}
              data-testid="node-deposit"
            />
          </Field>
          <Button
            variant="primary"
            busy={busy}
            busyLabel="Registering…"
            onClick={() => void register()}
            data-testid="node-register"
          >
            Register this node
          </Button>
        </div>
      )}
      {registered && node?.status === 1 && isOperator && (
        <div className="row-center">
          <Button variant="danger" busy={busy} onClick={() => void requestLeave()}>
            Leave on chain and start the deposit’s waiting period
          </Button>
        </div>
      )}
      {msg && (
        <Alert tone={msg.ok ? 'success' : 'error'} data-testid="node-register-message">
          {msg.text}
        </Alert>
      )}
    </div>
  );
}
