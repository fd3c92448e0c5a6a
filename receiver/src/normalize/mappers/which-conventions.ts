import type { Attributes } from '../../otlp/decoded.ts';
import type { Mapper } from '../mapped.ts';

/** A mapper, and the attribute keys it reads when those are all it reads (it says nothing without them). */
export interface Convention {
  map: Mapper;
  /** Absent for a mapper that also reads the span's name, events or resource: it runs on every span. */
  keys?: readonly string[];
}

const namespaceOf = (key: string): string => {
  const dot = key.indexOf('.');
  return dot < 0 ? key : key.slice(0, dot);
};

const MAX_REMEMBERED_KEYS = 10_000;

/**
 * Picks the mappers that may say something of a span: those without keys, and those that read a key in
 * the namespace (`llm` of `llm.model_name`) of one of the span's attributes. A namespace, not the key
 * itself, as conventions also read keys under a prefix (`llm.input_messages.0.message.role`).
 */
export class ConventionFilter {
  /** Per namespace, a bit for each convention that reads keys in it. */
  private readonly byNamespace = new Map<string, number>();
  /** The same per attribute key, remembered as keys repeat from span to span (bounded). */
  private readonly byKey = new Map<string, number>();

  constructor(private readonly conventions: readonly Convention[]) {
    if (conventions.length > 31) throw new Error('at most 31 conventions fit a bit mask');
    conventions.forEach((c, i) => {
      for (const key of c.keys ?? []) {
        const ns = namespaceOf(key);
        this.byNamespace.set(ns, (this.byNamespace.get(ns) ?? 0) | (1 << i));
      }
    });
  }

  /** The mappers to run on a span with these attributes, in priority order. */
  mappersFor(attributes: Attributes): Mapper[] {
    let present = 0;
    for (const key in attributes) present |= this.bitsOf(key);
    const out: Mapper[] = [];
    for (let i = 0; i < this.conventions.length; i++) {
      const c = this.conventions[i]!;
      if (c.keys === undefined || (present & (1 << i)) !== 0) out.push(c.map);
    }
    return out;
  }

  private bitsOf(key: string): number {
    let bits = this.byKey.get(key);
    if (bits === undefined) {
      bits = this.byNamespace.get(namespaceOf(key)) ?? 0;
      if (this.byKey.size >= MAX_REMEMBERED_KEYS) this.byKey.clear();
      this.byKey.set(key, bits);
    }
    return bits;
  }
}
