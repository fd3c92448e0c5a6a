import { APPROVAL_CHANNEL, type Pool, type PoolClient } from '@agentrace/store';
import type { Notification } from 'pg';

/** A wait for one approval to change: `changed` resolves when it is announced. */
export interface ApprovalSubscription {
  changed: Promise<void>;
  cancel(): void;
}

/**
 * Wakes long-polls (`GET /v1/approvals/{id}?wait=`) when an approval is decided or expires, in any server
 * process: the store announces it with NOTIFY at commit. One connection LISTENs while somebody waits and
 * goes back to the pool when nobody does, so an idle server holds none. A lost notification costs a
 * waiter only its wait: it re-reads the approval when its time is up.
 */
export class ApprovalNotifications {
  readonly #pool: Pool;
  readonly #waiters = new Map<string, Set<() => void>>();
  #count = 0;
  #listener: Promise<PoolClient> | null = null;
  readonly #releasers = new Map<PoolClient, (broken: boolean) => void>();

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Subscribes to one approval; subscribe before reading it, so that no change falls in between. */
  async subscribe(tenantId: string, approvalId: string): Promise<ApprovalSubscription> {
    const key = `${tenantId}/${approvalId}`;
    let wake!: () => void;
    const changed = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const set = this.#waiters.get(key) ?? new Set();
    set.add(wake);
    this.#waiters.set(key, set);
    this.#count++;
    let cancelled = false;
    const cancel = () => {
      if (cancelled) return;
      cancelled = true;
      this.#remove(key, wake);
    };
    try {
      await this.#listen();
    } catch (err) {
      cancel();
      throw err;
    }
    return { changed, cancel };
  }

  #onNotification = (message: Notification) => {
    for (const wake of this.#waiters.get(message.payload ?? '') ?? []) wake();
  };

  #listen(): Promise<PoolClient> {
    this.#listener ??= this.#connect().catch((err: unknown) => {
      this.#listener = null;
      throw err;
    });
    return this.#listener;
  }

  async #connect(): Promise<PoolClient> {
    const client = await this.#pool.connect();
    let released = false;
    const release = (broken: boolean) => {
      if (released) return;
      released = true;
      this.#releasers.delete(client);
      client.off('notification', this.#onNotification);
      client.off('error', onError);
      client.release(broken);
    };
    // A broken connection is not reused; the waiters fall back on their timeouts.
    const onError = () => {
      if (this.#listener === listening) this.#listener = null;
      release(true);
    };
    client.on('notification', this.#onNotification);
    client.on('error', onError);
    const listening = this.#listener;
    try {
      await client.query(`LISTEN ${APPROVAL_CHANNEL}`);
    } catch (err) {
      release(true);
      throw err;
    }
    this.#releasers.set(client, release);
    return client;
  }

  #remove(key: string, wake: () => void) {
    const set = this.#waiters.get(key);
    set?.delete(wake);
    if (set?.size === 0) this.#waiters.delete(key);
    this.#count--;
    if (this.#count > 0 || !this.#listener) return;
    const listener = this.#listener;
    this.#listener = null;
    listener.then(
      (client) => {
        const release = this.#releasers.get(client);
        client.query(`UNLISTEN ${APPROVAL_CHANNEL}`).then(
          () => release?.(false),
          () => release?.(true),
        );
      },
      () => undefined,
    );
  }
}
