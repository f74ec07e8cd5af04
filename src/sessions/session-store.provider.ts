import { Provider } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { ExpirySweeper } from '../database/expiry-sweeper.service';
import { HashedMongoStore } from './hashed-mongo-store';
import { SESSION_COLLECTION, SESSION_STORE } from './session.constants';
import { SessionExpiryPolicy } from './session-expiry-policy';

export const sessionStoreProvider: Provider = {
  provide: SESSION_STORE,
  inject: [getConnectionToken(), SessionExpiryPolicy, ExpirySweeper],
  useFactory: async (connection: Connection, policy: SessionExpiryPolicy, sweeper: ExpirySweeper) => {
    const db = connection.db;
    if (!db) throw new Error('MongoDB connection is not open');
    const collection = db.collection(SESSION_COLLECTION);
    const expiresNatively = await sweeper.expireBy(collection, 'expires');
    // One driver, one pool: connect-mongo works on mongoose's client.
    return new HashedMongoStore(
      {
        client: connection.getClient(),
        dbName: db.databaseName,
        collectionName: SESSION_COLLECTION,
        autoRemove: expiresNatively ? 'native' : 'disabled',
      },
      policy,
      expiresNatively,
    );
  },
};
