import type { Attributes, AttributeValue } from '@opentelemetry/api';

/** `attributes` without the undefined values, which OTel would warn about. */
export function definedAttributes(attributes: Record<string, AttributeValue | undefined>): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) out[key] = value;
  return out;
}
