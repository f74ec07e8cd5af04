import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Changes made to FerretDB's source before it is built, so the development and
 * test database behaves like MongoDB where our correctness depends on it.
 * Bump PATCH_LEVEL when this list changes: existing builds are then rebuilt.
 */
export const PATCH_LEVEL = 'atomic-writes.2+id-index.1+id-pushdown.1+field-pushdown.1';

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
/** What `Query` and `Explain` in internal/backends/sqlite/collection.go push down to SQLite: only a filter that is exactly `{ _id }`. */
const QUERY_ID_FILTER = [
  '\tif params.Filter.Len() == 1 {',
  '\t\tv, _ := params.Filter.Get("_id")',
  '\t\tswitch v.(type) {',
  '\t\tcase string, types.ObjectID:',
  '\t\t\twhereClause = fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn)',
  '\t\t\targs = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}',
  '\t\t}',
  '\t}',
  '',
].join('\n');
const EXPLAIN_ID_FILTER = [
  '\tif params.Filter.Len() == 1 {',
  '\t\tv, _ := params.Filter.Get("_id")',
  '\t\tswitch v.(type) {',
  '\t\tcase string, types.ObjectID:',
  '\t\t\tfilterPushdown = true',
  '\t\t\twhereClause = fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn)',
  '\t\t\targs = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}',
  '\t\t}',
  '\t}',
  '',
].join('\n');

const PATCHES: SourcePatch[] = [
  /**
   * Document-level atomicity of writes. FerretDB 1.24 runs `update`,
   * `findAndModify` and `delete` as a query, a decision made in Go, then a write
   * by `_id`, with nothing holding the document in between: parallel `$inc`s
   * of one counter lose updates, a conditional update (`points < 5`) lets more
   * than 5 through, and a conditional delete removes a document another writer
   * has just changed so it no longer matches. MongoDB
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
   * so each one scans the table (EXPLAIN QUERY PLAN: SCAN), in time that grows
   * with the collection. `->'_id'` reads the same value and is the index's expression
   * (SEARCH … USING INDEX), as MongoDB's `_id` index is always used.
   */
  { file: 'internal/backends/sqlite/metadata/metadata.go', find: ID_COLUMN, replace: `IDColumn = DefaultColumn + "->'_id'"` },
  /**
   * Any filter with an `_id` equality (string or ObjectId) or `_id: { $in: [...] }`
   * reaches SQLite as `WHERE <IDColumn> = ?` / `IN (?, …)`, with other conditions
   * beside it. FerretDB 1.24 pushes down only a filter that is exactly `{ _id }`,
   * so `{ _id, 'session.endedReason': { $exists: false } }` scanned every
   * document, under the write lock above. Narrowing is safe:
   * a backend may apply a filter partially (internal/backends/collection.go),
   * and update, delete, findAndModify, find, count, distinct and aggregate's
   * $match all re-apply the whole filter in Go to what the query returns.
   * The clause is built by `idPushdown` (NEW_FILES below).
   *
   * Without an `_id` condition, a top-level field equal to a plain string
   * (`{ email }`, beside anything else) narrows the query the same way,
   * through that field's index when it has one: FerretDB creates an index
   * on `_ferretdb_sjson->"field"`, which `->'field'` matches as it does for
   * `_id`. A sign-in reads the account by email: without this, every sign-in
   * scanned every account. Documents whose field
   * holds an array are kept too (MongoDB's equality matches an element), so
   * the narrowing never drops a match.
   */
  {
    file: 'internal/backends/sqlite/collection.go',
    find: QUERY_ID_FILTER,
    replace: '\twhereClause, args = idPushdown(params.Filter)\n',
  },
  {
    file: 'internal/backends/sqlite/collection.go',
    find: EXPLAIN_ID_FILTER,
    replace: '\twhereClause, args = idPushdown(params.Filter)\n\tfilterPushdown = whereClause != ""\n',
  },
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
  'internal/backends/sqlite/id_pushdown.go': `package sqlite

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// idPushdownMaxIn keeps an _id $in within SQLite's bound parameters (32766); a longer list is filtered in Go.
const idPushdownMaxIn = 10000

// idPushdown returns the WHERE clause and its arguments that narrow a query to the documents
// the filter can match: by _id (an equality to a string or ObjectId, or $in of those), or else
// by the first top-level field equal to a plain string (fieldPushdown), whatever other
// conditions the filter has (the handler applies the whole filter afterwards).
// Any other filter returns "" (no narrowing). Patch by session-service.
func idPushdown(filter *types.Document) (string, []any) {
	if countKey(filter, "_id") != 1 {
		return fieldPushdown(filter)
	}

	switch v := must.NotFail(filter.Get("_id")).(type) {
	case string, types.ObjectID:
		return fmt.Sprintf(\` WHERE %s = ?\`, metadata.IDColumn), []any{idArg(v)}

	case *types.Document:
		if countKey(v, "$in") != 1 {
			return "", nil
		}

		in, ok := must.NotFail(v.Get("$in")).(*types.Array)
		if !ok || in.Len() > idPushdownMaxIn {
			return "", nil
		}

		placeholders := make([]string, in.Len())
		args := make([]any, in.Len())

		for i := 0; i < in.Len(); i++ {
			e := must.NotFail(in.Get(i))

			switch e.(type) {
			case string, types.ObjectID:
			default:
				return "", nil
			}

			placeholders[i] = "?"
			args[i] = idArg(e)
		}

		return fmt.Sprintf(\` WHERE %s IN (%s)\`, metadata.IDColumn, strings.Join(placeholders, ", ")), args
	}

	return "", nil
}

// pushdownField is a field name that can be written into the SQL expression as it is.
var pushdownField = regexp.MustCompile(\`^[A-Za-z_][A-Za-z0-9_]*$\`)

// plainString is a value that Go's JSON encoding and SQLite's JSON rendering write alike
// (no escapes: Go writes <, > and & as \\u00XX).
var plainString = regexp.MustCompile(\`^[ !#-%'-;=?-\\[\\]-~]*$\`)

// fieldPushdown narrows to the documents whose top-level field equals the filter's plain
// string, or holds an array (which may contain it; the handler decides), through the
// expression of the field's index. A JSON array's text starts with "[", so the second
// condition is a range on the same expression.
func fieldPushdown(filter *types.Document) (string, []any) {
	for _, key := range filter.Keys() {
		if !pushdownField.MatchString(key) || countKey(filter, key) != 1 {
			continue
		}

		v, ok := must.NotFail(filter.Get(key)).(string)
		if !ok || !plainString.MatchString(v) {
			continue
		}

		field := fmt.Sprintf("%s->'%s'", metadata.DefaultColumn, key)

		return fmt.Sprintf(\` WHERE (%[1]s = ? OR (%[1]s >= '[' AND %[1]s < '\\'))\`, field), []any{idArg(v)}
	}

	return "", nil
}

// idArg is an _id value as stored in the IDColumn.
func idArg(v any) string {
	return string(must.NotFail(sjson.MarshalSingleValue(v)))
}

// countKey returns how many times key occurs in doc (types.Document.Get panics on a duplicated key).
func countKey(doc *types.Document, key string) int {
	var n int

	for _, k := range doc.Keys() {
		if k == key {
			n++
		}
	}

	return n
}
`,
};

/** The files of FerretDB's source that the patches change, and those they add. */
export const PATCHED_FILES: readonly string[] = [...new Set(PATCHES.map(({ file }) => file))];
export const ADDED_FILES: readonly string[] = Object.keys(NEW_FILES);

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
