import type { AuditRecord, AuditVerification } from '@agentrace/schemas';
import { auditRowHash, GENESIS_HASH } from './audit-chain.ts';
import { AUDIT_COLUMNS } from './audit-log.ts';
import type { Queryable } from './connection.ts';

type Problem = AuditVerification['problems'][number];

const PAGE_ROWS = 5000;
/** Enough to name what happened; a rewritten chain would otherwise list every row after the change. */
const MAX_PROBLEMS = 100;

/**
 * Walks a tenant's audit chain in seq order and names each row that was edited (its hash or the next
 * row's link does not match its content), inserted (the next row links past it, or it lies beyond the
 * head) or deleted (a missing seq, at the start, in the middle or after the last row).
 * Call it inside a transaction (`withTenant`, `inTransaction`).
 * @example const report = await inTransaction(pool, (tx) => verifyAuditChain(tx, tenantId));
 */
export async function verifyAuditChain(db: Queryable, tenantId: string): Promise<AuditVerification> {
  // Appends wait while the head is share-locked, so rows and head are read as of one moment; the lock
  // lasts until the transaction ends, and outside one this throws.
  await db.query('SAVEPOINT agentrace_audit_verify');
  const { rows: heads } = await db.query<{
    seq: number;
    hash: string;
    pruned_through_seq: number;
    pruned_hash: string;
  }>('SELECT seq, hash, pruned_through_seq, pruned_hash FROM audit_head WHERE tenant_id = $1 FOR SHARE', [
    tenantId,
  ]);
  const head = heads[0] ?? { seq: 0, hash: GENESIS_HASH, pruned_through_seq: 0, pruned_hash: GENESIS_HASH };
  const problems: Problem[] = [];
  const report = (p: Problem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  let expectedSeq = head.pruned_through_seq + 1;
  let previous: AuditRecord | null = null;
  let beforePrevious: string | null = null;
  let checked = 0;
  for (let afterSeq = 0; ; ) {
    const { rows } = await db.query<AuditRecord>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT ${PAGE_ROWS}`,
      [tenantId, afterSeq],
    );
    for (const row of rows) {
      checked++;
      if (row.seq > expectedSeq) report(deleted(expectedSeq, row.seq - 1));
      // Across a gap the link is broken by the deletion already reported.
      else if (row.prev_hash !== (previous ? previous.hash : head.pruned_hash))
        report(brokenLink(row, previous, beforePrevious));
      if (auditRowHash({ ...row, tenant_id: tenantId }) !== row.hash) {
        report({
          ...named(row),
          problem: 'edited',
          message: `row ${row.seq} was edited: its content does not match its hash`,
        });
      }
      if (row.seq > head.seq) {
        report({
          ...named(row),
          problem: 'inserted',
          message: `row ${row.seq} lies beyond the chain head (seq ${head.seq})`,
        });
      }
      beforePrevious = previous ? previous.hash : null;
      previous = row;
      expectedSeq = row.seq + 1;
    }
    if (rows.length < PAGE_ROWS) break;
    afterSeq = rows[rows.length - 1]!.seq;
  }
  if (expectedSeq <= head.seq) report(deleted(expectedSeq, head.seq));
  else if (previous && previous.seq === head.seq && previous.hash !== head.hash) {
    report({
      ...named(previous),
      problem: 'edited',
      message: `row ${head.seq} was replaced: the chain head holds another hash`,
    });
  }
  return { ok: problems.length === 0, checked, head: { seq: head.seq, hash: head.hash }, problems };
}

/** `row` does not link to `previous`: previous was slipped in (row links past it) or replaced. */
function brokenLink(row: AuditRecord, previous: AuditRecord | null, beforePrevious: string | null): Problem {
  if (!previous)
    return {
      ...named(row),
      problem: 'edited',
      message: `row ${row.seq} does not link to the start of the chain`,
    };
  if (row.prev_hash === beforePrevious) {
    return {
      ...named(previous),
      problem: 'inserted',
      message: `row ${previous.seq} was inserted: row ${row.seq} links to the row before it`,
    };
  }
  return {
    ...named(previous),
    problem: 'edited',
    message: `row ${previous.seq} was replaced: row ${row.seq} links to another hash`,
  };
}

const named = (row: AuditRecord) => ({ seq: row.seq, id: row.id });

const deleted = (from: number, through: number): Problem => ({
  seq: from,
  id: null,
  problem: 'deleted',
  message: from === through ? `row ${from} was deleted` : `rows ${from} to ${through} were deleted`,
});
