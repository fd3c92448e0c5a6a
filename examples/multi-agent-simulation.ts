/**
 * A market simulated in ticks: two buyers and a seller invoke artifacts (an escrow contract, a ledger
 * contract and a price-oracle service) by id and method. Each tick is a step carrying `agentrace.tick`;
 * each agent's turn is a sub-agent step. Scripted trouble makes the invocation stats interesting: the
 * oracle times out now and then, a buyer's bid fails validation, and the seller tries to release an
 * escrow that is not theirs (a permission failure). The agents handle the failures and play on.
 *
 * Run: AGENTRACE_API_KEY=<ingest key> npx tsx examples/multi-agent-simulation.ts
 */
import { startAgentrace } from '@agentrace/exporter';
import {
  InvocationError,
  logEvent,
  run,
  step,
  thought,
  traceModelCall,
  traceTool,
} from '@agentrace/instrumentation';
import { fakeProvider, sleep } from './lib/fake-provider.ts';

const ORACLE_TIMEOUT_MS = 120;

/** Rejects with a `timeout` InvocationError when `work` takes longer than `ms`. */
async function withTimeout<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new InvocationError('timeout', `${what} did not answer within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** The artifacts of the world, each a set of methods. */
const world = {
  escrows: new Map<string, { buyer: string; amount: number }>(),
  balances: new Map([
    ['ana', 500],
    ['bo', 300],
    ['cy', 0],
  ]),
  oracle: {
    /** The oracle answers slowly on some ticks: it is a service with a bad day. */
    async quote(tick: number): Promise<number> {
      await sleep(tick % 3 === 2 ? ORACLE_TIMEOUT_MS * 2 : 25);
      return 100 + tick * 7;
    },
  },
  escrow: {
    deposit(buyer: string, amount: number): string {
      if (!(amount > 0))
        throw new InvocationError('validation', `deposit amount must be positive, got ${amount}`);
      const balance = world.balances.get(buyer) ?? 0;
      if (amount > balance)
        throw new InvocationError('validation', `${buyer} has ${balance}, cannot deposit ${amount}`);
      world.balances.set(buyer, balance - amount);
      const id = `esc-${world.escrows.size + 1}`;
      world.escrows.set(id, { buyer, amount });
      return id;
    },
    release(caller: string, escrowId: string): number {
      const escrow = world.escrows.get(escrowId);
      if (!escrow) throw new InvocationError('execution', `no escrow ${escrowId}`);
      if (caller !== escrow.buyer)
        throw new InvocationError('permission', `${caller} may not release ${escrowId}`);
      world.escrows.delete(escrowId);
      return escrow.amount;
    },
  },
  ledger: {
    transfer(to: string, amount: number): void {
      world.balances.set(to, (world.balances.get(to) ?? 0) + amount);
    },
  },
};

const strategist = fakeProvider('openai', {
  latencyMs: () => 35,
  reply: (r) =>
    `Plan: ${r.messages.at(-1)!.content.includes('bid') ? 'bid slightly under the quote' : 'hold'}`,
});

/** An agent's turn: look up a price (it may time out), think, then act on a contract. */
async function buyerTurn(buyer: string, tick: number): Promise<void> {
  let price: number | undefined;
  try {
    price = await traceTool(
      'price-oracle',
      () => withTimeout(ORACLE_TIMEOUT_MS, 'price-oracle', world.oracle.quote(tick)),
      {
        artifactId: 'service:price-oracle',
        method: 'quote',
        invoker: buyer,
      },
    );
  } catch {
    thought(`No quote at tick ${tick}; I will wait for the next tick.`);
    return;
  }
  await traceModelCall({ taskType: 'plan', provider: 'openai', model: 'gpt-4o-mini' }, () =>
    strategist.chat({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You are a cautious buyer in a small market. '.repeat(10) },
        { role: 'user', content: `The quote is ${price}. Should I bid?` },
      ],
    }),
  );
  // Ana's tick-3 bid is scripted to be a bug: a negative amount, which the escrow contract rejects.
  const bid = buyer === 'ana' && tick === 3 ? -price : Math.round(price * 0.9);
  logEvent({ type: 'decision', choice: 'bid', reason: `quote ${price}`, alternatives: ['hold'] });
  try {
    const escrowId = await traceTool('escrow', async () => world.escrow.deposit(buyer, bid), {
      artifactId: 'contract:escrow-v2',
      method: 'deposit',
      invoker: buyer,
      args: { amount: bid },
    });
    thought(`Deposited ${bid} in ${escrowId}.`);
    await traceTool(
      'escrow',
      async () => world.ledger.transfer('cy', world.escrow.release(buyer, escrowId)),
      {
        artifactId: 'contract:escrow-v2',
        method: 'release',
        invoker: buyer,
        args: { escrowId },
      },
    );
  } catch (error) {
    thought(`My bid failed (${(error as Error).message}); I will retry next tick.`);
  }
}

/** The seller, too eager, tries to release an escrow that a buyer opened. */
async function sellerTurn(tick: number): Promise<void> {
  const pending = [...world.escrows.keys()][0];
  if (tick !== 4) {
    logEvent({ type: 'observation', source: 'ledger', content: `balance ${world.balances.get('cy')}` });
    return;
  }
  world.escrows.set('esc-held', { buyer: 'bo', amount: 50 });
  try {
    await traceTool('escrow', async () => world.escrow.release('cy', pending ?? 'esc-held'), {
      artifactId: 'contract:escrow-v2',
      method: 'release',
      invoker: 'cy',
      args: { escrowId: pending ?? 'esc-held' },
    });
  } catch {
    thought('Only the buyer may release an escrow.');
  }
}

const TICKS = 6;

const agentrace = startAgentrace({ serviceName: 'market-simulation' });
try {
  await run(
    'market simulation',
    { agent: 'simulator', role: 'world', tags: { scenario: 'escrow-market', ticks: TICKS } },
    async () => {
      for (let tick = 1; tick <= TICKS; tick++) {
        await step(
          'chain',
          `tick ${tick}`,
          async () => {
            await step('agent', 'ana', () => buyerTurn('ana', tick));
            await step('agent', 'bo', () => buyerTurn('bo', tick));
            await step('agent', 'cy', () => sellerTurn(tick));
          },
          { tick },
        );
      }
    },
  );
  process.stdout.write(
    `  ${TICKS} ticks; balances: ${[...world.balances].map(([k, v]) => `${k}=${v}`).join(', ')}\n`,
  );
} finally {
  await agentrace.shutdown();
}
