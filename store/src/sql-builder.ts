/** Collects AND-ed WHERE conditions with numbered parameters. */
export class Conditions {
  readonly params: unknown[] = [];
  private readonly parts: string[] = [];

  /** Adds `sql`, where each `$` is replaced by the next parameter placeholder. */
  add(sql: string, ...values: unknown[]): this {
    let i = 0;
    this.parts.push(
      sql.replace(/\$(?!\d)/g, () => {
        this.params.push(values[i++]);
        return `$${this.params.length}`;
      }),
    );
    return this;
  }

  /** Adds `sql` only when `value` is defined. */
  addIf(value: unknown, sql: string): this {
    return value === undefined ? this : this.add(sql, value);
  }

  /** Binds a parameter without a condition (LIMIT, ...), returning its placeholder. */
  bind(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  toSql(): string {
    return this.parts.length > 0 ? this.parts.join(' AND ') : 'TRUE';
  }
}
