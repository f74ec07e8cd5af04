import type { Collection, Document } from 'mongodb';

/** Server error codes meaning "this server cannot do that", as FerretDB answers for TTL indexes. */
const NOT_SUPPORTED_CODES = new Set([115 /* CommandNotSupported */, 238 /* NotImplemented */]);

/**
 * Creates the TTL index `{ [field]: 1 }` (expire at the stored date) and tells
 * whether the server supports it. MongoDB does; FerretDB answers NotImplemented.
 */
export async function createTtlIndex(collection: Collection<Document>, field: string): Promise<boolean> {
  try {
    await collection.createIndex({ [field]: 1 }, { expireAfterSeconds: 0 });
    return true;
  } catch (error) {
    if (NOT_SUPPORTED_CODES.has((error as { code?: number }).code ?? -1)) return false;
    throw error;
  }
}
