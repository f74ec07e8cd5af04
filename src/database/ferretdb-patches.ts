import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Changes made to FerretDB's source before it is built, so the development and
 * test database behaves like MongoDB where our correctness depends on it.
 * Bump PATCH_LEVEL when this list changes: existing builds are then rebuilt.
 */
export const PATCH_LEVEL = 'atomic-updates.1';

interface SourcePatch {
  file: string;
  /** A line that must exist exactly once; the patch goes right after it. */
  after: string;
  insert: string;
}

const LOCK = '\n\tdocumentWriteMu.Lock()\n\tdefer documentWriteMu.Unlock()\n';

/**
 * Document-level atomicity of updates. FerretDB 1.24 runs `update` and
 * `findAndModify` as a query, a change made in Go, then a write by `_id`, with
 * nothing holding the document in between: 30 parallel `$inc`s of one counter
 * lose updates, and a conditional update (`points < 5`) lets more than 5
 * through (measured here). MongoDB applies each update to a document
 * atomically; the lockout counters rely on it. One process-wide lock around
 * both commands restores that (SQLite serialises writes anyway).
 */
const PATCHES: SourcePatch[] = [
  {
    file: 'internal/handler/msg_update.go',
    after: 'func (h *Handler) updateDocument(ctx context.Context, params *common.UpdateParams) (int32, int32, *types.Array, error) {',
    insert: LOCK,
  },
  {
    file: 'internal/handler/msg_findandmodify.go',
    after: 'func (h *Handler) MsgFindAndModify(connCtx context.Context, msg *wire.OpMsg) (*wire.OpMsg, error) {',
    insert: LOCK,
  },
];

const NEW_FILES: Record<string, string> = {
  'internal/handler/document_write_mu.go': [
    'package handler',
    '',
    'import "sync"',
    '',
    '// documentWriteMu makes each update and findAndModify atomic, as in MongoDB (patch by session-service).',
    'var documentWriteMu sync.Mutex',
    '',
  ].join('\n'),
};

/** Applies every patch to the FerretDB source tree at `sourceDir`; throws when one no longer fits. */
export function patchFerretDbSource(sourceDir: string): void {
  for (const { file, after, insert } of PATCHES) {
    const path = join(sourceDir, file);
    const source = readFileSync(path, 'utf8');
    if (source.split(after).length !== 2) throw new Error(`FerretDB patch does not fit ${file}: expected one "${after}"`);
    writeFileSync(path, source.replace(after, `${after}${insert}`));
  }
  for (const [file, content] of Object.entries(NEW_FILES)) writeFileSync(join(sourceDir, file), content);
}
