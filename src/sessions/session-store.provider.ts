import { Provider } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { HashedMongoStore } from './hashed-mongo-store';
import { SESSION_COLLECTION, SESSION_STORE } from './session.constants';
import { SessionsRepository } from './sessions.repository';

export const sessionStoreProvider: Provider = {
  provide: SESSION_STORE,
  inject: [getConnectionToken(), SessionsRepository],
  // One driver, one pool: connect-mongo works on mongoose's client.
  useFactory: (connection: Connection, repository: SessionsRepository) =>
    new HashedMongoStore(
      { client: connection.getClient(), dbName: connection.db?.databaseName, collectionName: SESSION_COLLECTION },
      repository,
    ),
};
