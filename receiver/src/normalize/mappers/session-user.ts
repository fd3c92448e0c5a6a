import { GEN_AI, OTEL } from '@agentrace/schemas';
import { defined, firstStr } from '../attribute-readers.ts';
import type { Mapper } from '../mapped.ts';
import { LANGFUSE } from './langfuse.ts';
import { TRACELOOP } from './openllmetry.ts';
import { AI_SDK } from './vercel-ai.ts';

/** Session keys of every convention, in priority order (semconv-mapping.md §7). */
const SESSION_KEYS = [
  LANGFUSE.sessionId,
  OTEL.sessionId,
  GEN_AI.conversationId,
  `${TRACELOOP.associationPrefix}session_id`,
  `${AI_SDK.metadataPrefix}sessionId`,
  `${AI_SDK.contextPrefix}sessionId`,
];

const USER_KEYS = [
  LANGFUSE.userId,
  OTEL.userId,
  OTEL.enduserId,
  `${TRACELOOP.associationPrefix}user_id`,
  `${AI_SDK.metadataPrefix}userId`,
  `${AI_SDK.contextPrefix}userId`,
];

/**
 * Session and user across conventions: any key on the span beats every key on the resource, so that they
 * are read in one place rather than by each convention's mapper. (Ancestors are covered at the run level:
 * a run takes the first session and user any of its spans gives.)
 */
export const sessionUserMapper: Mapper = ({ attributes: a, resource: r }) =>
  defined({
    sessionId: firstStr(a, ...SESSION_KEYS) ?? firstStr(r, ...SESSION_KEYS),
    userId: firstStr(a, ...USER_KEYS) ?? firstStr(r, ...USER_KEYS),
  });
