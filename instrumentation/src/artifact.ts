import { AGENTRACE } from '@agentrace/schemas';
import { z } from 'zod';
import { currentScope, inheritedAttributes } from './agent-scope.ts';
import { validateInput } from './invalid-input.ts';
import { traced } from './traced.ts';

const FileArtifact = z.strictObject({
  /** Where the file is: a URL or a path. */
  uri: z.string().min(1),
  /** A display name; the last segment of `uri` when not given. */
  name: z.string().min(1).optional(),
  mediaType: z
    .string()
    .regex(/^[\w.+-]+\/[\w.+-]+$/, 'a media type like text/markdown')
    .optional(),
  size: z.number().int().nonnegative().optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, '64 hex digits')
    .optional(),
});
/**
 * A file reference for `attachArtifact`: `uri` is required, the rest is recorded when given.
 * @example const report: FileArtifact = { uri: 'file:///tmp/report.md', mediaType: 'text/markdown' };
 */
export type FileArtifact = z.input<typeof FileArtifact>;

/**
 * Attaches a file the agent produced or used to the current step: an `artifact` step carrying
 * `agentrace.artifact.{uri,name,media_type,size,sha256}`. The file itself is not uploaded.
 * @example
 * attachArtifact({ uri: 'file:///tmp/report.md', name: 'report.md', mediaType: 'text/markdown',
 *   size: body.length, sha256: createHash('sha256').update(body).digest('hex') });
 */
export function attachArtifact(artifact: FileArtifact): void {
  const a = validateInput('attachArtifact', FileArtifact, artifact);
  if (a === undefined) return;
  const name = a.name ?? a.uri.split('/').filter(Boolean).pop() ?? a.uri;
  const scope = currentScope();
  traced(
    {
      name: `artifact ${name}`,
      attributes: {
        ...inheritedAttributes(scope),
        [AGENTRACE.stepType]: 'artifact',
        [AGENTRACE.artifactUri]: a.uri,
        [AGENTRACE.artifactName]: name,
        [AGENTRACE.artifactMediaType]: a.mediaType,
        [AGENTRACE.artifactSize]: a.size,
        [AGENTRACE.artifactSha256]: a.sha256?.toLowerCase(),
      },
      scope,
    },
    () => undefined,
  );
}
