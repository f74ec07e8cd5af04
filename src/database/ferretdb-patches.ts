import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Changes made to FerretDB's source before it is built, so the development and
 * test database behaves like MongoDB where our correctness depends on it.
 * Bump PATCH_LEVEL when this list changes: existing builds are then rebuilt.
 */
export const PATCH_LEVEL = 'atomic-writes.2+id-index.1';

interface SourcePatch {
  file: string;
  /** Text that must exist exactly once in the file. */
  find: string;
  /** What it becomes. */
  replace: string;
}

const UPDATE_DOCUMENT =
  'func (h *Handler) updateDocument(ctx context.Context, params *common.UpdateParams) (int32, int32, *types.Array, error) {';
const FIND_AND_MODIFY = 'func (h *Handler) MsgFindAndModify(connCtx context.Context, msg *wire.OpMsg) (*wire.OpMsg, error) {';
const EXEC_DELETE = 'func (h *Handler) execDelete(ctx context.Context, c backends.Collection, p *common.Delete) (int32, error) {';
const LOCK = '\n\tdocumentWriteMu.Lock()\n\tdefer documentWriteMu.Unlock()\n';
const ID_COLUMN = `IDColumn = DefaultColumn + "->'$._id'"`;

const PATCHES: SourcePatch[] = [
  /**
   * Document-level atomicity of writes. FerretDB 1.24 runs `update`,
   * `findAndModify` and `delete` as a query, a decision made in Go, then a write
   * by `_id`, with nothing holding the document in between: 30 parallel `$inc`s
   * of one counter lose updates, a conditional update (`points < 5`) lets more
   * than 5 through, and a conditional delete removes a document another writer
   * has just changed so it no longer matches (all measured here). MongoDB
   * applies each write to a document atomically; the lockout counters and
   * "each session's end recorded once" rely on it. One process-wide lock around
   * the three restores that (SQLite serialises writes anyway).
   */
  { file: 'internal/handler/msg_update.go', find: UPDATE_DOCUMENT, replace: `${UPDATE_DOCUMENT}${LOCK}` },
  { file: 'internal/handler/msg_findandmodify.go', find: FIND_AND_MODIFY, replace: `${FIND_AND_MODIFY}${LOCK}` },
  { file: 'internal/handler/msg_delete.go', find: EXEC_DELETE, replace: `${EXEC_DELETE}${LOCK}` },
  /**
   * Lookups by `_id` that use the `_id` index. Every table has a unique index on
   * `_ferretdb_sjson->"_id"`, but reads, updates and deletes by `_id` filter on
   * `_ferretdb_sjson->'$._id'`, an expression SQLite does not match to the index,
   * so each one scans the table (EXPLAIN QUERY PLAN: SCAN; 360 ms at 100,000
   * documents). `->'_id'` reads the same value and is the index's expression
   * (SEARCH … USING INDEX), as MongoDB's `_id` index is always used.
   */
  { file: 'internal/backends/sqlite/metadata/metadata.go', find: ID_COLUMN, replace: `IDColumn = DefaultColumn + "->'_id'"` },
];

const NEW_FILES: Record<string, string> = {
  'internal/handler/document_write_mu.go': [
    'package handler',
    '',
    'import "sync"',
    '',
    '// documentWriteMu makes each update, findAndModify and delete atomic, as in MongoDB (patch by session-service).',
    'var documentWriteMu sync.Mutex',
    '',
  ].join('\n'),
};

/** Applies every patch to the FerretDB source tree at `sourceDir`; throws when one no longer fits. */
export function patchFerretDbSource(sourceDir: string): void {
  for (const { file, find, replace } of PATCHES) {
    const path = join(sourceDir, file);
    const source = readFileSync(path, 'utf8');
    if (source.split(find).length !== 2) throw new Error(`FerretDB patch does not fit ${file}: expected one "${find}"`);
    writeFileSync(path, source.replace(find, replace));
  }
  for (const [file, content] of Object.entries(NEW_FILES)) writeFileSync(join(sourceDir, file), content);
}
