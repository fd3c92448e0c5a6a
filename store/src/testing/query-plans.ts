import type { Queryable } from '../connection.ts';

/** A node of `EXPLAIN (FORMAT JSON)`, with what plan tests look at. */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/** Each node of a plan that reads a table, as "<node type> on <table>", e.g. "Seq Scan on run". */
const tableReads = (node: PlanNode): string[] => [
  ...(node['Relation Name'] ? [`${node['Node Type']} on ${node['Relation Name']}`] : []),
  ...(node.Plans ?? []).flatMap(tableReads),
];

/**
 * How PostgreSQL would read the tables for `sql` (an EXPLAIN-able statement, with its parameters):
 * "<node type> on <table>" per node that reads one, for tests that pin a plan's shape.
 * @example expect(await planTableReads(pool, 'EXECUTE "ingest-lock-runs"(...)')).not.toContain('Seq Scan on run')
 */
export async function planTableReads(db: Queryable, sql: string, values: unknown[] = []): Promise<string[]> {
  const { rows } = await db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    `EXPLAIN (FORMAT JSON) ${sql}`,
    values,
  );
  return tableReads(rows[0]!['QUERY PLAN'][0].Plan);
}
